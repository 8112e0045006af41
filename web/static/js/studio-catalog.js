// The brand's catalog: add products, change price and stock, upload a
// picture (resized by the server, shown on the cards), add discounts. Each
// change goes through the API; the page is then shown again, priced by the
// server (which also explains a sale that shows no label).

import { api, showError, minorUnits } from './studio.js';

const root = document.querySelector('[data-studio-catalog]');

function busy(form, on) {
  for (const b of form.querySelectorAll('button')) b.disabled = on;
}

async function run(scope, form, fn) {
  busy(form, true);
  showError(scope, null);
  try {
    await fn();
    location.reload();
  } catch (err) {
    showError(scope, err);
    busy(form, false);
  }
}

const add = root.querySelector('[data-add-product]');
add.addEventListener('submit', (e) => {
  e.preventDefault();
  const f = new FormData(add);
  const currency = String(f.get('currency')).toUpperCase();
  run(add, add, () => {
    const price = minorUnits(f.get('price'), currency);
    if (!Number.isFinite(price)) throw new Error(`The price must be a number with at most the digits ${currency} has (49.90).`);
    return api('POST', '/v1/products', {
      title: f.get('title'),
      sku: f.get('sku'),
      currency,
      price_minor: price,
      url: f.get('url'),
      in_stock: f.get('in_stock') === 'on',
    });
  });
});

for (const li of root.querySelectorAll('[data-product-id]')) {
  const id = encodeURIComponent(li.dataset.productId);
  const currency = li.dataset.currency;
  const about = li.querySelector('.about');

  const edit = li.querySelector('[data-edit-product]');
  edit.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = new FormData(edit);
    run(about, edit, () => {
      const price = minorUnits(f.get('price'), currency);
      if (!Number.isFinite(price)) throw new Error('The price must be a number (49.90).');
      return api('PATCH', `/v1/products/${id}`, { price_minor: price, in_stock: f.get('in_stock') === 'on' });
    });
  });

  const file = li.querySelector('[data-image-file]');
  file.addEventListener('change', () => {
    const img = file.files[0];
    if (!img) return;
    run(about, li, () => api('PUT', `/v1/products/${id}/image`, img, { raw: true, headers: { 'Content-Type': img.type || 'application/octet-stream' } }));
  });

  const disc = li.querySelector('[data-add-discount]');
  disc.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = new FormData(disc);
    run(disc, disc, () => {
      const kind = f.get('kind');
      const body = {
        kind,
        starts_at: new Date(String(f.get('starts'))).toISOString(),
        ends_at: new Date(String(f.get('ends'))).toISOString(),
        coupon_code: String(f.get('coupon') || ''),
        flash: f.get('flash') === 'on',
      };
      if (kind === 'percent') body.percent_off = Number(f.get('off'));
      else body.amount_off_minor = minorUnits(f.get('off'), currency);
      if (!Number.isFinite(body.percent_off ?? body.amount_off_minor)) throw new Error('How much off must be a number.');
      return api('POST', `/v1/products/${id}/discounts`, body);
    });
  });
}
