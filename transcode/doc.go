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
// The engine writes this fixed layout into the job's out dir:
//
//	master.m3u8          multivariant playlist, written by this package
//	1080p/index.m3u8     media playlist of one rendition (one dir per rung: 1080p, 720p, 480p,
//	1080p/init.mp4       or e.g. 270p for a small source)
//	1080p/seg_00000.m4s  fMP4 media segments, numbered from 0: the first 1 s, the others 2 s
//	audio/index.m3u8     the audio rendition group "aud" (AAC-LC 48 kHz stereo), when the source has audio
//	audio/init.mp4
//	audio/seg_00000.m4s
//	poster.jpg           an upright JPEG poster the size of the largest rung
//	clip.mp4             a progressive MP4 (faststart) of the 720p rung and the audio
//	storyboard.jpg       thumbnails every 2 s (or so: at most 100) in one sprite
//	storyboard.vtt       WebVTT index of the sprite: cues with "storyboard.jpg#xywh=x,y,w,h"
//
// Every video rendition forces its keyframes on one Schedule: with the
// defaults at 0, at Config.FirstSegmentDuration (1 s), then every
// Config.KeyframeInterval (2 s): 0, 1, 3, 5 s… Every rendition, the audio included, is cut into
// segments at FirstSegmentDuration and every Config.SegmentDuration after
// it, so segments line up across renditions and the first one, short, is
// ready soon. The engine muxes segments as FFmpeg's hls muxer would (fMP4:
// init.mp4 + .m4s), cutting them where the Schedule says. When the ladder is
// done, WritePlaylists reads every media playlist back, checks each segment
// it names, rewrites it in its final form (VOD, EXT-X-ENDLIST, the
// Schedule's EXT-X-TARGETDURATION) and writes master.m3u8 itself, with peak
// and average bandwidth measured on the segments. CheckOutputs validates a
// finished out dir independently.
//
// # Progressive publication
//
// A clip becomes playable long before its ladder is done: the engine
// announces each file as soon as it is complete (Events of kind EventFile),
// in an order that lets the worker upload them as they come — a
// rendition's init segment, then each media segment followed by the
// rendition's media playlist, rewritten to list it. While the transcode
// runs, media playlists are EVENT playlists (EXT-X-PLAYLIST-TYPE:EVENT, no
// EXT-X-ENDLIST) that list only announced segments, written atomically
// (a temporary file in the same dir, renamed). Once every rendition has its
// first segment, the engine writes a provisional master.m3u8 — every variant,
// in its final order, with its real CODECS, RESOLUTION, FRAME-RATE and
// AUDIO, and an upper bound of its BANDWIDTH (Ladder.BandwidthBound) — and
// sends EventPlayable: the worker uploads it and lets viewers play the clip
// while it is still processing. At the end the final VOD playlists and the
// measured master replace them atomically; the Report lists every final
// file, master last, for the worker to upload what is left (the final
// playlists, poster, MP4, storyboard). Publisher implements this for the
// engine; EventFile and EventPlayable spell out the contract.
//
// # Running a transcode
//
// Runner.Run starts the child (`shopclip transcode` with the protocol flags
// of ChildRequest), in its own process group and network namespace, with a
// clean environment and the out dir as cwd; the child applies its rlimits
// before it opens the input, sends Events as JSON lines on fd 3 (from a
// bounded queue: a parent slow to read never holds up the engine) and
// prints one JSON Report; Run passes the events to Job.OnEvent in order.
// Run maps the outcome to a media error code (the upload is unusable),
// EMEDIALIMIT (a CPU, memory, file-size or time limit),
// EMEDIACRASH (a crash inside FFmpeg) or a plain internal error.
//
// # Share renders
//
// Runner.Share makes a clip's "share MP4": product cards (PNG Overlays of
// a ShareSpec) burned into its progressive MP4 at given places and times,
// in the same sandboxed child (the --share mode of the protocol). PlanShare
// plans it (the ladder's encoder settings for the clip's size, each card
// placed in pixels) and SharePlan.VideoFilter is its filter graph, which,
// like Ladder.VideoFilter, holds only numbers and fixed names.
package transcode
