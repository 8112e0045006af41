// Package ffmpeg is shopclip's transcode engine and the only package that
// uses cgo: it drives FFmpeg 5.1's libraries through go-astiav v0.16.0 to
// probe an upload, decode it once, filter and scale it, encode the HLS
// ladder planned by package transcode, and take the poster. No go-astiav
// type leaves this package.
//
// The engine runs in a child process (ChildMain, behind `shopclip
// transcode`), started and supervised by transcode.Runner, because a crash
// inside FFmpeg kills the whole process. Inputs are hostile: they are opened
// with allowlists of containers (Formats), protocols (file only) and
// decoders, bounded probing, max_streams and max_pixels, and checked against
// transcode.InputLimits before any decoding (RELIABILITY B1–B5, B9).
//
// Each rendition is muxed by a segmenter: FFmpeg's mp4 muxer in the
// fragmented mode FFmpeg's hls muxer drives it in, writing the same init
// and media segment files, but cut where transcode.Schedule says (a short
// first segment, which 5.1's hls muxer cannot cut for audio), and handed to
// a transcode.Publisher as soon as each file is written, so the worker can
// publish the clip while the ladder is still being made.
//
// Concurrency: the caller's goroutine demuxes, decodes and runs the filter
// graph; each rung's libx264 encoder and segmenter run in a goroutine of
// their own, and so does the audio. Threads by default: the video decoder gets one
// frame thread per core, the filter graph one slice thread per core, and
// each libx264 encoder a share of 1.5 × cores in proportion to its pixels
// per second (2, 1, 1 for the default ladder on 2 cores), which measured
// faster than libx264's own default on the benchmark clip.
// transcode.Threads overrides them.
//
// BurnIn, the child's --share mode, makes a share render: it decodes the
// clip's own MP4 (mov/mp4 demuxer only), overlays the product cards in one
// filter graph, re-encodes the video with the ladder's libx264 settings and
// copies the audio packets unchanged into a faststart MP4.
package ffmpeg
