package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopclip/shopclip/transcode"
)

func TestPlaylistSnapshotTrimsUnannouncedSegments(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "720p"), 0o755)
	pl := "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-INDEPENDENT-SEGMENTS\n" +
		"#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:1.000000,\nseg_00000.m4s\n#EXTINF:2.000000,\nseg_00001.m4s\n#EXTINF:2.000000,\nseg_00002.m4s\n"
	if _, err := transcode.ParseMediaPlaylist([]byte(pl)); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "720p", "index.m3u8"), []byte(pl), 0o644)
	tests := []struct {
		name      string
		announced []string
		want      []string
	}{
		{"all announced", []string{"720p/init.mp4", "720p/seg_00000.m4s", "720p/seg_00001.m4s", "720p/seg_00002.m4s"}, []string{"seg_00000.m4s", "seg_00001.m4s", "seg_00002.m4s"}},
		{"last one in flight", []string{"720p/init.mp4", "720p/seg_00000.m4s", "720p/seg_00001.m4s"}, []string{"seg_00000.m4s", "seg_00001.m4s"}},
		{"another rendition's segment does not count", []string{"720p/seg_00000.m4s", "480p/seg_00001.m4s"}, []string{"seg_00000.m4s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			announced := map[string]bool{}
			for _, a := range tt.announced {
				announced[a] = true
			}
			b, err := playlistSnapshot(dir, "720p/index.m3u8", announced)
			if err != nil {
				t.Fatal(err)
			}
			got, err := transcode.ParseMediaPlaylist(b)
			if err != nil {
				t.Fatalf("snapshot does not parse: %v\n%s", err, b)
			}
			var uris []string
			for _, s := range got.Segments {
				uris = append(uris, s.URI)
			}
			if strings.Join(uris, ",") != strings.Join(tt.want, ",") || got.EndList || got.PlaylistType != "EVENT" {
				t.Errorf("snapshot lists %v (endlist %v, type %q), want %v as an EVENT playlist", uris, got.EndList, got.PlaylistType, tt.want)
			}
		})
	}
}
