package fmtdb

import (
	"math"
	"strconv"
)

func appendFloat(dst []byte, conv byte, l Length, flags Flags, width, prec int, v *Value) []byte {
	x := math.Float64frombits(v.Bits)
	if prec < 0 {
		prec = 6
	}
	return strconv.AppendFloat(dst, x, conv, prec, 64)
}
