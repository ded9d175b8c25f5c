package main

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"

	"github.com/logpack/logpack/internal/benchstat"
)

var methodColor = map[string]string{
	"criu-text": "#c0504d",
	"fprintf":   "#e3a33b",
	"logpack":   "#2e7d32",
	"ram-floor": "#7f8c8d",
}

const (
	chartWidth = 760
	chartLeft  = 150 // method labels
	chartRight = 90  // value labels
	barH       = 18
	barGap     = 6
	groupGap   = 34
)

// panel is one bar chart of the figure: a value per (workload, method).
type panel struct {
	title string
	class string // class attribute of its bars, for tests and styling
	unit  string
	value func(w, m string) (float64, bool)
	log   bool // logarithmic axis
}

// Chart draws two panels, one group of bars per workload in each: the
// median ns per call on a logarithmic axis (text and logpack differ by
// orders of magnitude, so a linear axis would hide the small bars), then
// the bytes per record on a linear one.
func Chart(r *Results, date string) []byte {
	panels := []panel{
		{
			title: "Cost of one log call (median ns, log scale; shorter is better)",
			class: "bar", unit: "ns", log: true,
			value: func(w, m string) (float64, bool) {
				s := r.Samples[w][m]
				return benchstat.Median(s), len(s) > 0
			},
		},
		{
			title: "Bytes per record (shorter is better)",
			class: "bytes", unit: "B",
			value: func(w, m string) (float64, bool) {
				v, ok := r.Bytes[w][m]
				return v, ok
			},
		},
	}
	var body strings.Builder
	y := 0
	fmt.Fprintf(&body, `<text x="10" y="%d" fill="#555">make bench, %s</text>`+"\n", y+18, html.EscapeString(date))
	y += 24
	for _, p := range panels {
		y = p.draw(&body, r, y)
	}
	height := y + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", chartWidth, height)
	b.WriteString(body.String())
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// draw writes the panel from y down and returns the y below it.
func (p panel) draw(b *strings.Builder, r *Results, y int) int {
	plotW := float64(chartWidth - chartLeft - chartRight)
	maxV := 0.0
	rows := 0
	for _, w := range r.Workloads() {
		for _, m := range r.Methods(w) {
			if v, ok := p.value(w, m); ok {
				maxV = math.Max(maxV, v)
				rows++
			}
		}
	}
	if rows == 0 {
		return y
	}

	// The axis: powers of ten from 1 on a log axis, five steps on a linear one.
	var ticks []float64
	var x func(v float64) float64
	if p.log {
		lo, hi := 1.0, math.Pow(10, math.Ceil(math.Log10(math.Max(maxV, 2))))
		for v := lo; v <= hi*1.0001; v *= 10 {
			ticks = append(ticks, v)
		}
		x = func(v float64) float64 {
			return plotW * (math.Log10(math.Max(v, lo)) - math.Log10(lo)) / (math.Log10(hi) - math.Log10(lo))
		}
	} else {
		step := niceStep(maxV / 4)
		hi := step * math.Ceil(maxV/step)
		if hi <= 0 {
			hi = 1
		}
		for v := 0.0; v <= hi*1.0001; v += step {
			ticks = append(ticks, v)
		}
		x = func(v float64) float64 { return plotW * math.Max(v, 0) / hi }
	}

	fmt.Fprintf(b, `<text x="10" y="%d" font-size="15" font-weight="bold">%s</text>`+"\n", y+20, html.EscapeString(p.title))
	y += 28
	top := y
	for _, w := range r.Workloads() {
		y += groupGap
		fmt.Fprintf(b, `<text x="10" y="%d" font-weight="bold">%s</text>`+"\n", y-8, html.EscapeString(workloadTitle[w]))
		for _, m := range r.Methods(w) {
			v, ok := p.value(w, m)
			if !ok {
				continue
			}
			bw := x(v)
			fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", chartLeft-8, y+barH-5, html.EscapeString(m))
			fmt.Fprintf(b, `<rect class="%s" data-method="%s" data-workload="%s" data-value="%s" x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n",
				p.class, m, w, fmtNs(v), chartLeft, y, bw, barH, methodColor[m])
			fmt.Fprintf(b, `<text x="%.1f" y="%d">%s %s</text>`+"\n", float64(chartLeft)+bw+6, y+barH-5, fmtNs(v), p.unit)
			y += barH + barGap
		}
	}
	y += 4
	for _, v := range ticks {
		gx := float64(chartLeft) + x(v)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ccc" stroke-dasharray="2,3"/>`+"\n", gx, top, gx, y)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">%s %s</text>`+"\n",
			gx, y+14, strconv.FormatFloat(v, 'f', -1, 64), p.unit)
	}
	return y + 24
}

// niceStep rounds v up to 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
