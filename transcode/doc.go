// Package transcode plans and supervises the transcoding of one uploaded clip
// into an HLS rendition ladder. It is pure Go and easy to test: the cgo engine
// that does the work lives in transcode/ffmpeg and runs in a child process
// started by Runner, so a crash inside FFmpeg ends one job, never the worker.
//
// The pipeline is:
//
//	Probe (ffmpeg) ──▶ Plan ──▶ Ladder ──▶ engine (ffmpeg, child process) ──▶ out dir ──▶ Report
//
// Plan turns a Probe summary and a Config into a Ladder: the renditions to
// make (by the displayed short side: 1080, 720, 480, never upscaling), their
// sizes, frame rates and rate caps, the orientation and colour fixes, and the
// filter graph the engine runs. CheckProbe rejects inputs outside the limits
// with a media error code (shopclip.EMEDIA*).
//
// # Output layout
//
// The engine writes this fixed layout into the job's out dir; the worker
// uploads the dir as is, master.m3u8 last:
//
//	master.m3u8          multivariant playlist, written by this package
//	1080p/index.m3u8     VOD media playlist of one rendition (one dir per rung: 1080p, 720p, 480p,
//	1080p/init.mp4       or e.g. 270p for a small source)
//	1080p/seg_00000.m4s  2 s fMP4 media segments, numbered from 0
//	audio/index.m3u8     the audio rendition group "aud" (AAC-LC 48 kHz stereo), when the source has audio
//	audio/init.mp4
//	audio/seg_00000.m4s
//	poster.jpg           an upright JPEG poster the size of the largest rung
//	clip.mp4             a progressive MP4 (faststart) of the 720p rung and the audio
//	storyboard.jpg       thumbnails every 2 s (or so: at most 100) in one sprite
//	storyboard.vtt       WebVTT index of the sprite: cues with "storyboard.jpg#xywh=x,y,w,h"
//
// Every video rendition starts a segment on a keyframe forced at each multiple
// of Config.KeyframeInterval, so segments line up across renditions. The
// engine muxes segments with FFmpeg's hls muxer (fMP4: init.mp4 + .m4s),
// then WritePlaylists reads every media playlist back, checks each segment
// it names, rewrites it in canonical form (VOD, EXT-X-ENDLIST, computed
// EXT-X-TARGETDURATION) and writes master.m3u8 itself, with peak and average
// bandwidth measured on the segments. CheckOutputs validates a finished out
// dir independently.
//
// # Running a transcode
//
// Runner.Run starts the child (`shopclip transcode` with the protocol flags
// of ChildRequest), in its own process group and network namespace, with a
// clean environment and the out dir as cwd; the child applies its rlimits
// before it opens the input, sends Events as JSON lines on fd 3 and prints
// one JSON Report. Run maps the outcome to a media error code (the upload is
// unusable), EMEDIALIMIT (a CPU, memory, file-size or time limit),
// EMEDIACRASH (a crash inside FFmpeg) or a plain internal error.
package transcode
