package mdraid

// Arithmetic in GF(2^8) with the polynomial x^8+x^4+x^3+x^2+1 (0x11d) and
// generator 2, the field of the kernel's raid6 Q syndrome:
// Q = sum over data slots i of g^i · D_i.
var gfExp, gfLog = gfTables()

func gfTables() (exp [510]byte, log [256]byte) {
	x := 1
	for i := 0; i < 255; i++ {
		exp[i] = byte(x)
		exp[i+255] = byte(x)
		log[x] = byte(i)
		x <<= 1
		if x&0x100 != 0 {
			x ^= 0x11d
		}
	}
	return exp, log
}

func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

// gfPow is g^n.
func gfPow(n int) byte { return gfExp[n%255] }

func gfInv(a byte) byte { return gfExp[255-int(gfLog[a])] }

func xorInto(dst, src []byte) {
	for i := range dst {
		dst[i] ^= src[i]
	}
}

// mulTable is multiplication by c as a lookup table, so a block costs one
// load per byte instead of two logarithm lookups.
func mulTable(c byte) *[256]byte {
	var t [256]byte
	for x := range t {
		t[x] = gfMul(byte(x), c)
	}
	return &t
}

// mulXorInto adds c·src to dst.
func mulXorInto(dst, src []byte, c byte) {
	t := mulTable(c)
	for i := range dst {
		dst[i] ^= t[src[i]]
	}
}

func scale(buf []byte, c byte) {
	t := mulTable(c)
	for i := range buf {
		buf[i] = t[buf[i]]
	}
}
