package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestReadEvents(t *testing.T) {
	stream := "retry: 2000\n\n" +
		"event: clip\nid: clp_1\ndata: {\"id\":\"clp_1\"}\n\n" +
		": ping\n\n" +
		"data: one\ndata: two\n\n" +
		"event: deleted\ndata:{\"id\":\"clp_2\"}\n\n" +
		"event: clip\ndata: cut short" // no blank line: never dispatched
	var got []string
	if err := readEvents(strings.NewReader(stream), func(event, data string) {
		got = append(got, event+"|"+data)
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{`clip|{"id":"clp_1"}`, "message|one\ntwo", `deleted|{"id":"clp_2"}`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

func TestFirstURI(t *testing.T) {
	pl := "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n\n#EXTINF:0.5,\r\nseg_00000.m4s\r\nseg_00001.m4s\n"
	if got := firstURI(pl); got != "seg_00000.m4s" {
		t.Errorf("firstURI = %q", got)
	}
	if got := firstURI("#EXTM3U\n"); got != "" {
		t.Errorf("firstURI of no segment = %q", got)
	}
}
