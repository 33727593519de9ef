package mdraid

import (
	"bytes"
	"fmt"
	"sort"
)

// parity maps raid4, raid5 and raid6 as the kernel's raid5_compute_sector
// does: each stripe holds dataDisks chunks plus P (and Q for raid6), and the
// algorithm decides which member holds which.
type parity struct {
	level     string
	alg       int
	disks     int
	dataDisks int
	chunk     int64
	devSize   int64 // per member, rounded down to the chunk
}

func newParity(g Geometry) (*parity, error) {
	alg, err := parseParityLayout(g.Level, g.Layout)
	if err != nil {
		return nil, err
	}
	p := &parity{level: g.Level, alg: alg, disks: g.RaidDisks, chunk: g.ChunkBytes,
		devSize: g.DataSize / g.ChunkBytes * g.ChunkBytes}
	p.dataDisks = p.disks - 1
	if g.Level == "raid6" {
		p.dataDisks = p.disks - 2
	}
	if p.devSize <= 0 {
		return nil, fmt.Errorf("%s: members of %d bytes hold no whole chunk", g.Level, g.DataSize)
	}
	return p, nil
}

func (p *parity) size() int64 { return p.devSize * int64(p.dataDisks) }

func (p *parity) locate(off int64) ([]place, int64) {
	chunkNo, inChunk := off/p.chunk, off%p.chunk
	stripe := chunkNo / int64(p.dataDisks)
	s := p.stripe(stripe)
	return []place{{s.data[chunkNo%int64(p.dataDisks)], stripe*p.chunk + inChunk}}, p.chunk - inChunk
}

// stripeLayout says which member holds each data chunk, P and Q in one stripe.
type stripeLayout struct {
	data   []int // member of data chunk i
	pd, qd int   // qd is -1 without Q
	ddf    bool  // DDF layouts number Q's coefficients by member, not by data slot
}

// stripe computes the layout of stripe number n.
func (p *parity) stripe(n int64) stripeLayout {
	s := stripeLayout{data: make([]int, p.dataDisks), qd: -1}
	for dd := range s.data {
		s.data[dd], s.pd, s.qd, s.ddf = p.member(n, dd)
	}
	return s
}

// member is the kernel's per-algorithm placement of data chunk dd of stripe n.
func (p *parity) member(n int64, dd int) (dev, pd, qd int, ddf bool) {
	disks, data := p.disks, p.dataDisks
	rot := func(m int) int { return int(n % int64(m)) }
	qd = -1
	switch p.level {
	case "raid4":
		return dd, data, -1, false
	case "raid5":
		switch p.alg {
		case algLeftAsymmetric:
			pd = data - rot(disks)
			if dd >= pd {
				dd++
			}
		case algRightAsymmetric:
			pd = rot(disks)
			if dd >= pd {
				dd++
			}
		case algLeftSymmetric:
			pd = data - rot(disks)
			dd = (pd + 1 + dd) % disks
		case algRightSymmetric:
			pd = rot(disks)
			dd = (pd + 1 + dd) % disks
		case algParity0:
			pd = 0
			dd++
		case algParityN:
			pd = data
		}
		return dd, pd, -1, false
	}
	// raid6
	asymmetric := func() {
		qd = pd + 1
		if pd == disks-1 {
			dd++ // Q D D D P
			qd = 0
		} else if dd >= pd {
			dd += 2 // D D P Q D
		}
	}
	switch p.alg {
	case algLeftAsymmetric:
		pd = disks - 1 - rot(disks)
		asymmetric()
	case algRightAsymmetric:
		pd = rot(disks)
		asymmetric()
	case algLeftSymmetric:
		pd = disks - 1 - rot(disks)
		qd = (pd + 1) % disks
		dd = (pd + 2 + dd) % disks
	case algRightSymmetric:
		pd = rot(disks)
		qd = (pd + 1) % disks
		dd = (pd + 2 + dd) % disks
	case algParity0:
		pd, qd = 0, 1
		dd += 2
	case algParityN:
		pd, qd = data, data+1
	case algRotatingZero:
		pd = rot(disks)
		asymmetric()
		ddf = true
	case algRotatingN:
		pd = disks - 1 - int((n+1)%int64(disks))
		asymmetric()
		ddf = true
	case algRotatingNContinue:
		pd = disks - 1 - rot(disks)
		qd = (pd + disks - 1) % disks
		dd = (pd + 1 + dd) % disks
		ddf = true
	case algLeftAsymmetric6:
		pd = data - rot(disks-1)
		if dd >= pd {
			dd++
		}
		qd = disks - 1
	case algRightAsymmetric6:
		pd = rot(disks - 1)
		if dd >= pd {
			dd++
		}
		qd = disks - 1
	case algLeftSymmetric6:
		pd = data - rot(disks-1)
		dd = (pd + 1 + dd) % (disks - 1)
		qd = disks - 1
	case algRightSymmetric6:
		pd = rot(disks - 1)
		dd = (pd + 1 + dd) % (disks - 1)
		qd = disks - 1
	case algParity0_6:
		pd = 0
		dd++
		qd = disks - 1
	}
	return dd, pd, qd, ddf
}

// qSlots gives each data member's coefficient index in the Q syndrome, in
// the order the kernel feeds members to its syndrome routine: from the
// member after Q (or member 0), counting data members only, or every member
// for DDF layouts.
func (s stripeLayout) qSlots(disks int) map[int]int {
	slots := make(map[int]int, len(s.data))
	d0 := 0
	if !s.ddf && s.qd != disks-1 {
		d0 = s.qd + 1
	}
	count := 0
	for k := 0; k < disks; k++ {
		i := (d0 + k) % disks
		if s.ddf {
			if i != s.pd && i != s.qd {
				slots[i] = count
			}
			count++
			continue
		}
		if i != s.pd && i != s.qd {
			slots[i] = count
			count++
		}
	}
	return slots
}

// readAround fills buf (array bytes from off, inside one chunk) from the
// member holding them; where that member does not read (missing, failed,
// or a range unreadable on it), the bytes are recomputed from the rest of
// the stripe, range by range, with whichever members read over each range.
func (p *parity) readAround(a *Array, buf []byte, off int64) (int, error) {
	chunkNo, inChunk := off/p.chunk, off%p.chunk
	stripeNo := chunkNo / int64(p.dataDisks)
	s := p.stripe(stripeNo)
	target := s.data[chunkNo%int64(p.dataDisks)]
	devOff := stripeNo*p.chunk + inChunk
	srcs := make([]*source, p.disks)
	for i := range srcs {
		srcs[i] = a.newSource(i, devOff, len(buf))
	}
	x := 0
	for x < len(buf) {
		ok, end := a.at(srcs[target], x)
		if ok {
			copy(buf[x:end], srcs[target].buf[x:end])
			x = end
			continue
		}
		readable := make([]bool, p.disks)
		for i, src := range srcs {
			if i != target {
				ok, until := a.at(src, x)
				readable[i] = ok
				end = min(end, until)
			}
		}
		blocks := make(map[int][]byte, p.disks)
		for i, ok := range readable {
			if ok {
				blocks[i] = srcs[i].buf[x:end]
			}
		}
		if why := p.reconstruct(s, target, buf[x:end], blocks); why != "" {
			return x, a.lost(off, x, end, srcs, nil, fmt.Sprintf("stripe %d: cannot rebuild member %d: %s", stripeNo, target, why))
		}
		x = end
	}
	return x, nil
}

// reconstruct recomputes the bytes of data member target of stripe s from
// the blocks of the members that read (the same range of each); it says
// why not when too few do.
func (p *parity) reconstruct(s stripeLayout, target int, buf []byte, blocks map[int][]byte) (whyNot string) {
	var lostData []int
	for _, d := range s.data {
		if blocks[d] == nil {
			lostData = append(lostData, d)
		}
	}
	sort.Ints(lostData)
	pOK := blocks[s.pd] != nil
	qOK := s.qd >= 0 && blocks[s.qd] != nil
	switch {
	case len(lostData) == 1 && pOK:
		copy(buf, blocks[s.pd])
		for _, d := range s.data {
			if d != target {
				xorInto(buf, blocks[d])
			}
		}
		return ""
	case len(lostData) == 1 && qOK:
		slots := s.qSlots(p.disks)
		copy(buf, blocks[s.qd])
		for _, d := range s.data {
			if d != target {
				mulXorInto(buf, blocks[d], gfPow(slots[d]))
			}
		}
		scale(buf, gfInv(gfPow(slots[target])))
		return ""
	case len(lostData) == 2 && pOK && qOK:
		slots := s.qSlots(p.disks)
		other := lostData[0]
		if other == target {
			other = lostData[1]
		}
		pxy := append([]byte(nil), blocks[s.pd]...)
		qxy := append([]byte(nil), blocks[s.qd]...)
		for _, d := range s.data {
			if d != target && d != other {
				xorInto(pxy, blocks[d])
				mulXorInto(qxy, blocks[d], gfPow(slots[d]))
			}
		}
		// Dt = (Qxy + g^o·Pxy) / (g^t + g^o)
		gt, gOther := gfPow(slots[target]), gfPow(slots[other])
		copy(buf, qxy)
		mulXorInto(buf, pxy, gOther)
		scale(buf, gfInv(gt^gOther))
		return ""
	case len(lostData) > 2 || (p.level != "raid6" && len(lostData) > 1):
		return fmt.Sprintf("members %v of the stripe are all lost", lostData)
	}
	return "too many members lost, parity included"
}

// check recomputes P (and Q) for n bytes of the stripe holding array
// offset off and compares them with what the members hold.
func (p *parity) check(a *Array, off int64, n int) (bool, error) {
	chunkNo, inChunk := off/p.chunk, off%p.chunk
	stripeNo := chunkNo / int64(p.dataDisks)
	s := p.stripe(stripeNo)
	devOff := stripeNo*p.chunk + inChunk
	read := func(i int) ([]byte, error) {
		b := make([]byte, n)
		if err := a.readMember(i, b, devOff); err != nil {
			return nil, fmt.Errorf("%s: redundancy at %d: %w", a.name, off, err)
		}
		return b, nil
	}
	pWant := make([]byte, n)
	qWant := make([]byte, n)
	slots := s.qSlots(p.disks)
	for _, d := range s.data {
		b, err := read(d)
		if err != nil {
			return false, err
		}
		xorInto(pWant, b)
		if s.qd >= 0 {
			mulXorInto(qWant, b, gfPow(slots[d]))
		}
	}
	pGot, err := read(s.pd)
	if err != nil || !bytes.Equal(pGot, pWant) {
		return false, err
	}
	if s.qd < 0 {
		return true, nil
	}
	qGot, err := read(s.qd)
	if err != nil {
		return false, err
	}
	return bytes.Equal(qGot, qWant), nil
}
