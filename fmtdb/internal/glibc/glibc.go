// Package glibc calls the C library's vsnprintf with any argument
// sequence, as the test oracle for fmtdb's renderer.
//
// On x86-64 a va_list whose register save areas are marked used
// (gp_offset 48, fp_offset 304) reads every argument from its overflow
// area, laid out as stack slots: 8 bytes per integer, pointer or double,
// 16 bytes (16-byte aligned) per long double. Building that area by hand
// emulates any call without generating C per call.
package glibc

/*
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnu/libc-version.h>

struct va_tag {
	unsigned int gp_offset;
	unsigned int fp_offset;
	void *overflow_arg_area;
	void *reg_save_area;
};

static int lp_vsnprintf(char *buf, size_t n, const char *fmt, int err, void *area) {
	struct va_tag tag = {48, 304, area, NULL};
	va_list ap;
	_Static_assert(sizeof(va_list) == sizeof(tag), "x86-64 va_list");
	memcpy(ap, &tag, sizeof tag);
	errno = err;
	return vsnprintf(buf, n, fmt, ap);
}
*/
import "C"

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// Kind is the C type of one argument.
type Kind uint8

const (
	Int     Kind = iota // int or long (8-byte slot; va_arg(int) reads the low half)
	Double              // double
	LongDbl             // long double: Mant + SE (x87)
	Str                 // char *: Bytes, or NULL if Null
)

// Arg is one C argument.
type Arg struct {
	Kind  Kind
	I     uint64
	F     float64
	Mant  uint64
	SE    uint16
	Bytes []byte
	Null  bool
}

// Sprintf returns what vsnprintf prints for format and args with errno
// set to errnum, and vsnprintf's return value (negative on error).
func Sprintf(format string, errnum int, args []Arg) ([]byte, int) {
	// lay out the overflow area
	var area []byte
	var strs []unsafe.Pointer
	defer func() {
		for _, p := range strs {
			C.free(p)
		}
	}()
	var ptrs []struct {
		off int
		p   unsafe.Pointer
	}
	for _, a := range args {
		switch a.Kind {
		case Int:
			area = binary.LittleEndian.AppendUint64(area, a.I)
		case Double:
			area = binary.LittleEndian.AppendUint64(area, math.Float64bits(a.F))
		case LongDbl:
			for len(area)%16 != 0 {
				area = append(area, 0)
			}
			area = binary.LittleEndian.AppendUint64(area, a.Mant)
			area = binary.LittleEndian.AppendUint16(area, a.SE)
			area = append(area, make([]byte, 6)...)
		case Str:
			var p unsafe.Pointer
			if !a.Null {
				p = C.CBytes(append(append([]byte{}, a.Bytes...), 0))
				strs = append(strs, p)
			}
			ptrs = append(ptrs, struct {
				off int
				p   unsafe.Pointer
			}{len(area), p})
			area = append(area, make([]byte, 8)...)
		}
	}
	// Enough slack that a format reading more arguments than given reads
	// zeros rather than unmapped memory.
	area = append(area, make([]byte, 4096)...)
	carea := C.malloc(C.size_t(len(area)))
	defer C.free(carea)
	if uintptr(carea)%16 != 0 {
		panic("malloc not 16-byte aligned")
	}
	dst := unsafe.Slice((*byte)(carea), len(area))
	copy(dst, area)
	for _, p := range ptrs {
		*(*unsafe.Pointer)(unsafe.Pointer(&dst[p.off])) = p.p
	}
	cfmt := C.CString(format)
	defer C.free(unsafe.Pointer(cfmt))
	size := 256
	for {
		buf := C.malloc(C.size_t(size))
		n := int(C.lp_vsnprintf((*C.char)(buf), C.size_t(size), cfmt, C.int(errnum), carea))
		if n < 0 {
			C.free(buf)
			return nil, n
		}
		if n < size {
			out := C.GoBytes(buf, C.int(n))
			C.free(buf)
			return out, n
		}
		C.free(buf)
		size = n + 1
	}
}

// Version is the running glibc's version.
func Version() string { return C.GoString(C.gnu_get_libc_version()) }
