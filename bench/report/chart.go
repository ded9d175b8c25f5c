package main

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

var methodColor = map[string]string{
	"criu-text": "#c0504d",
	"fprintf":   "#e3a33b",
	"logpack":   "#2e7d32",
	"ram-floor": "#7f8c8d",
}

// Chart draws the median ns per call of every method as horizontal bars,
// one group per workload, on a logarithmic axis (text and logpack differ by
// orders of magnitude, so a linear axis would hide the small bars).
func Chart(r *Results, date string) []byte {
	const (
		width    = 760
		left     = 150 // method labels
		right    = 90  // value labels
		barH     = 18
		barGap   = 6
		groupGap = 34
		top      = 52
	)
	plotW := float64(width - left - right)

	maxV := 1.0
	for _, w := range r.Workloads() {
		for _, m := range r.Methods(w) {
			maxV = math.Max(maxV, Median(r.Samples[w][m]))
		}
	}
	lo, hi := 1.0, math.Pow(10, math.Ceil(math.Log10(maxV)))
	if hi <= lo {
		hi = 10
	}
	x := func(v float64) float64 {
		v = math.Max(v, lo)
		return plotW * (math.Log10(v) - math.Log10(lo)) / (math.Log10(hi) - math.Log10(lo))
	}

	height := top
	for _, w := range r.Workloads() {
		height += groupGap + len(r.Methods(w))*(barH+barGap)
	}
	height += 40

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">Cost of one log call (median ns, log scale; shorter is better)</text>`+"\n", 10)
	fmt.Fprintf(&b, `<text x="%d" y="40" fill="#555">make bench, %s</text>`+"\n", 10, html.EscapeString(date))

	// Grid lines at powers of ten.
	plotBottom := height - 30
	for v := lo; v <= hi*1.0001; v *= 10 {
		gx := float64(left) + x(v)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", gx, top, gx, plotBottom)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s ns</text>`+"\n", gx, plotBottom+16, strconv.FormatFloat(v, 'f', -1, 64))
	}

	y := top
	for _, w := range r.Workloads() {
		y += groupGap
		fmt.Fprintf(&b, `<text x="10" y="%d" font-weight="bold">%s</text>`+"\n", y-8, html.EscapeString(workloadTitle[w]))
		for _, m := range r.Methods(w) {
			med := Median(r.Samples[w][m])
			bw := x(med)
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-8, y+barH-5, html.EscapeString(m))
			fmt.Fprintf(&b, `<rect class="bar" data-method="%s" data-workload="%s" data-ns="%s" x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n",
				m, w, fmtNs(med), left, y, bw, barH, methodColor[m])
			fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s ns</text>`+"\n", float64(left)+bw+6, y+barH-5, fmtNs(med))
			y += barH + barGap
		}
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}
