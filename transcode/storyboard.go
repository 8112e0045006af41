package transcode

import (
	"bytes"
	"fmt"
	"time"
)

// Grid returns the sprite layout of n thumbnails: Columns per row (fewer
// when n is smaller) and as many rows as needed.
func (sb *StoryboardPlan) Grid(n int) (cols, rows int) {
	if n <= 0 {
		return 0, 0
	}
	cols = min(n, sb.Columns)
	return cols, (n + cols - 1) / cols
}

// VTT returns the WebVTT index of a storyboard of n thumbnails for a clip
// of the given duration: cue i covers [i, i+1) intervals (the last ends with
// the clip) and points at its tile of the sprite with a media fragment,
// "storyboard.jpg#xywh=x,y,w,h".
func (sb *StoryboardPlan) VTT(n int, duration time.Duration) ([]byte, error) {
	if n <= 0 {
		return nil, fmt.Errorf("transcode: storyboard without thumbnails")
	}
	cols, _ := sb.Grid(n)
	interval := time.Duration(sb.IntervalMS) * time.Millisecond
	var b bytes.Buffer
	b.WriteString("WEBVTT\n")
	for i := range n {
		start := time.Duration(i) * interval
		end := start + interval
		if i == n-1 && duration > start {
			end = duration
		}
		fmt.Fprintf(&b, "\n%s --> %s\n%s#xywh=%d,%d,%d,%d\n", vttTime(start), vttTime(end), sb.Image,
			(i%cols)*sb.TileWidth, (i/cols)*sb.TileHeight, sb.TileWidth, sb.TileHeight)
	}
	return b.Bytes(), nil
}

// vttTime formats d as a WebVTT timestamp, hh:mm:ss.ttt.
func vttTime(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3_600_000, ms/60_000%60, ms/1000%60, ms%1000)
}
