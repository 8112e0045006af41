package transcode

import "time"

// Schedule says where every rendition of a ladder gets its forced keyframes
// and where its segments are cut, in milliseconds of output time (the first
// frame is at 0). It is the same in every rendition, so segments line up
// across renditions and a player can switch between them at any segment
// boundary.
//
// Keyframes are forced at 0 and every KeyframeMS before FirstMS, at FirstMS,
// and every KeyframeMS after it. Segments are cut at FirstMS and every
// SegmentMS after it, which are all keyframe times since SegmentMS is a
// multiple of KeyframeMS. With the defaults (first segment 1 s, keyframes
// and segments every 2 s):
//
//	keyframes  0  1     3     5     7 …
//	segments   [0,1) [1,3) [3,5) [5,7) …
//
// With FirstMS equal to SegmentMS it is the classic grid: a keyframe every
// KeyframeMS, a segment every SegmentMS.
type Schedule struct {
	FirstMS    int64 // the first segment's length
	KeyframeMS int64 // the keyframe interval
	SegmentMS  int64 // the length of every segment after the first
}

// Schedule returns the ladder's keyframe and segment schedule.
func (l *Ladder) Schedule() Schedule {
	return Schedule{FirstMS: l.FirstSegmentMS, KeyframeMS: l.KeyframeIntervalMS, SegmentMS: l.SegmentDurationMS}
}

// NextKeyframe returns the time of the first forced keyframe after ms (0
// for a negative ms). An encoder forces a keyframe on the first frame at or
// after each scheduled time, then asks for the next one after that frame.
func (s Schedule) NextKeyframe(ms int64) int64 {
	switch {
	case ms < 0:
		return 0
	case ms < s.FirstMS:
		return min((ms/s.KeyframeMS+1)*s.KeyframeMS, s.FirstMS)
	default:
		return s.FirstMS + ((ms-s.FirstMS)/s.KeyframeMS+1)*s.KeyframeMS
	}
}

// Segment returns the index of the segment that holds time ms: 0 before
// FirstMS, then one more every SegmentMS. A muxer cuts a new segment at the
// first keyframe (the first packet, for audio) whose time has a larger index
// than the current segment's.
func (s Schedule) Segment(ms int64) int {
	if ms < s.FirstMS {
		return 0
	}
	return 1 + int((ms-s.FirstMS)/s.SegmentMS)
}

// SegmentStart returns the time the segment of index i starts at.
func (s Schedule) SegmentStart(i int) int64 {
	if i <= 0 {
		return 0
	}
	return s.FirstMS + int64(i-1)*s.SegmentMS
}

// Keyframes returns the scheduled keyframe times before durationMS.
func (s Schedule) Keyframes(durationMS int64) []int64 {
	var keys []int64
	for t := int64(0); t < durationMS; t = s.NextKeyframe(t) {
		keys = append(keys, t)
	}
	return keys
}

// TargetDuration returns the EXT-X-TARGETDURATION of a media playlist of
// this schedule listing segs: TargetDurationFor(segs), but never less than
// the nominal segment length rounded to whole seconds (2 for 2 s segments).
// An EVENT playlist that lists only a short first segment so already has
// the target its later segments need, and the value does not change when
// more segments are listed or when the playlist becomes VOD at the end.
func (s Schedule) TargetDuration(segs []Segment) int {
	nominal := TargetDurationFor([]Segment{{Duration: time.Duration(s.SegmentMS) * time.Millisecond}})
	return max(nominal, TargetDurationFor(segs))
}
