package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"holmes/blockdev"
	"holmes/casefile"
	"holmes/mdraid"
	"holmes/render"
)

// geometryFlags are the geometry options shared by md assemble (and the
// hints md solve takes); sizes follow mdadm: a bare number is KiB.
type geometryFlags struct {
	level, layout, chunk, dataOffset, dataSize, order string
	raidDevices                                       int
}

func (f *geometryFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.level, "level", "", "raid level (raid0 raid1 raid4 raid5 raid6 raid10 linear, or 0 1 4 5 6 10)")
	fs.StringVar(&f.layout, "layout", "", "layout: n2 f2 o2 ... for raid10, left-symmetric ... for raid5/6")
	fs.StringVar(&f.chunk, "chunk", "", "chunk size (bare number = KiB as in mdadm; or 512K, 1M)")
	fs.StringVar(&f.dataOffset, "data-offset", "", "data offset on each member (bare number = KiB as in mdadm; or 1M, 2048s)")
	fs.StringVar(&f.dataSize, "data-size", "", "bytes of each member the array uses (default: as much as the members allow)")
	fs.StringVar(&f.order, "order", "", "role order as indices into the DEV list, e.g. 2,0,missing,1 (default: as given)")
	fs.IntVar(&f.raidDevices, "raid-devices", 0, "number of raid disks (default: the number of DEVs)")
}

// given reports whether any geometry flag was set.
func (f *geometryFlags) given(cmd *cobra.Command) bool {
	for _, name := range []string{"level", "layout", "chunk", "data-offset", "data-size", "raid-devices"} {
		if cmd.Flags().Changed(name) {
			return true
		}
	}
	return false
}

// geometry builds the geometry the flags describe for n members.
func (f *geometryFlags) geometry(n int) (mdraid.Geometry, error) {
	g := mdraid.Geometry{Level: f.level, Layout: f.layout, RaidDisks: n}
	if f.raidDevices > 0 {
		g.RaidDisks = f.raidDevices
	}
	var err error
	if g.ChunkBytes, err = mdadmSize("--chunk", f.chunk); err != nil {
		return g, err
	}
	if g.DataOffset, err = mdadmSize("--data-offset", f.dataOffset); err != nil {
		return g, err
	}
	if f.dataSize != "" {
		if g.DataSize, err = blockdev.ParseSize(f.dataSize); err != nil {
			return g, usageError{fmt.Errorf("--data-size: %w", err)}
		}
	}
	g, err = g.Normalize()
	if err != nil {
		return g, usageError{err}
	}
	return g, nil
}

// mdadmSize parses a size as mdadm does: a bare number is KiB.
func mdadmSize(flag, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		s += "K"
	}
	n, err := blockdev.ParseSize(s)
	if err != nil {
		return 0, usageError{fmt.Errorf("%s: %w", flag, err)}
	}
	return n, nil
}

// roleOrder applies --order to the DEV list: the result holds, per role,
// the DEV spec or "" for a missing member. The word "missing" may also
// stand in the DEV list itself.
func roleOrder(specs []string, order string) ([]string, error) {
	if order == "" {
		out := make([]string, len(specs))
		for i, s := range specs {
			if s != "missing" {
				out[i] = s
			}
		}
		return out, nil
	}
	var out []string
	used := map[int]bool{}
	for _, f := range strings.Split(order, ",") {
		f = strings.TrimSpace(f)
		if f == "missing" || f == "-" {
			out = append(out, "")
			continue
		}
		i, err := strconv.Atoi(f)
		if err != nil || i < 0 || i >= len(specs) || used[i] {
			return nil, usageError{fmt.Errorf("--order: %q is not an unused index into the %d DEVs (0-based) or \"missing\"", f, len(specs))}
		}
		used[i] = true
		if specs[i] != "missing" {
			out = append(out, specs[i])
		} else {
			out = append(out, "")
		}
	}
	return out, nil
}

// openRoles opens the DEVs of each role; "" stays nil (missing).
func openRoles(specs []string) ([]blockdev.Device, error) {
	devs := make([]blockdev.Device, len(specs))
	for i, s := range specs {
		if s == "" {
			continue
		}
		d, err := openDevice(s)
		if err != nil {
			closeAll(devs)
			return nil, err
		}
		devs[i] = d
	}
	return devs, nil
}

// assembleReport is md assemble's JSON: the resolved geometry (flattened),
// the members in role order and what the superblocks said about each device.
type assembleReport struct {
	Name   string `json:"name"`
	Source string `json:"source"` // "superblocks" or "flags"
	mdraid.Geometry
	ArraySize  int64              `json:"array_size"`
	ArrayUUID  string             `json:"array_uuid,omitempty"`
	Metadata   string             `json:"metadata,omitempty"`
	Members    []*string          `json:"members"`
	Candidates []mdraid.Candidate `json:"candidates,omitempty"`
	Warnings   []string           `json:"warnings"`
	SHA256     string             `json:"sha256,omitempty"` // of the whole array, with --sha256
}

var (
	assembleFlags     geometryFlags
	assembleUUID      string
	assembleName      string
	assembleWriteCase string
	assembleHash      bool
)

var mdAssembleCmd = &cobra.Command{
	Use:   "assemble DEV...",
	Short: "Assemble an md array virtually, from its superblocks or from geometry flags",
	Long: `Assemble an md array in user space, read-only, and print the geometry it
resolved. Without --level the geometry and member order come from the md
superblocks on the DEVs: devices with fewer events, another array's UUID or a
bad checksum are reported and left out, and the freshest superblock decides.
With --level (and --chunk, --layout, --data-offset as needed) the DEVs are
taken in role order (or as --order says); "missing" stands for a lost member.

--write-case FILE records the array in a case file, after which every
command reads it as --case FILE NAME (e.g. holmes dump md1 --case FILE).`,
	Args: cobra.MinimumNArgs(1),
	RunE: runMdAssemble,
}

func init() {
	assembleFlags.register(mdAssembleCmd)
	fs := mdAssembleCmd.Flags()
	fs.StringVar(&assembleUUID, "uuid", "", "assemble the array with this UUID when the DEVs carry several")
	fs.StringVar(&assembleName, "name", "md0", "the array's name in reports and the case file")
	fs.StringVar(&assembleWriteCase, "write-case", "", "record the array in case `FILE` (created or updated)")
	fs.BoolVar(&assembleHash, "sha256", false, "read the whole array and report its sha256")
	mdCmd.AddCommand(mdAssembleCmd)
}

func runMdAssemble(cmd *cobra.Command, args []string) error {
	var (
		arr    *mdraid.Array
		report assembleReport
		err    error
	)
	if assembleFlags.level != "" {
		arr, report, err = assembleFromFlags(args)
	} else if assembleFlags.given(cmd) || assembleFlags.order != "" {
		return usageError{errors.New("geometry flags need --level (without it the superblocks decide)")}
	} else {
		arr, report, err = assembleFromSuperblocks(args)
	}
	if err != nil {
		return err
	}
	defer arr.Close()
	report.Name = assembleName
	report.Geometry = arr.Geometry()
	report.ArraySize = arr.Size()
	if report.Warnings == nil {
		report.Warnings = []string{}
	}
	if assembleHash {
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(arr, 0, arr.Size())); err != nil {
			return err
		}
		report.SHA256 = fmt.Sprintf("%x", h.Sum(nil))
	}
	if assembleWriteCase != "" {
		if err := writeCaseArray(assembleWriteCase, assembleName, report.Geometry, report.Members); err != nil {
			return err
		}
	}
	return emit(cmd, report, func(w io.Writer) error { return printAssemble(w, report) })
}

func assembleFromFlags(args []string) (*mdraid.Array, assembleReport, error) {
	report := assembleReport{Source: "flags"}
	specs, err := roleOrder(args, assembleFlags.order)
	if err != nil {
		return nil, report, err
	}
	g, err := assembleFlags.geometry(len(specs))
	if err != nil {
		return nil, report, err
	}
	devs, err := openRoles(specs)
	if err != nil {
		return nil, report, err
	}
	arr, err := mdraid.Open(g, devs, assembleName)
	if err != nil {
		closeAll(devs)
		return nil, report, err
	}
	report.Members = memberList(specs)
	return arr, report, nil
}

func assembleFromSuperblocks(args []string) (*mdraid.Array, assembleReport, error) {
	report := assembleReport{Source: "superblocks"}
	devs, err := openDevices(args)
	if err != nil {
		return nil, report, err
	}
	plan, err := mdraid.PlanFromSuperblocks(devs, assembleUUID)
	if err != nil {
		closeAll(devs)
		return nil, report, err
	}
	arr, err := plan.Open(devs, assembleName)
	if err != nil {
		closeAll(devs)
		return nil, report, err
	}
	specs := make([]string, len(plan.Roles))
	for r, i := range plan.Roles {
		if i >= 0 {
			specs[r] = args[i]
		}
	}
	// The array reads only the devices that are members; close the rest now.
	for i, d := range devs {
		if plan.Candidates[i].Status != "member" {
			d.Close()
		}
	}
	report.ArrayUUID, report.Metadata = plan.ArrayUUID, plan.Metadata
	report.Members, report.Candidates, report.Warnings = memberList(specs), plan.Candidates, plan.Warnings
	return arr, report, nil
}

// memberList turns role specs ("" = missing) into the JSON/case-file form.
func memberList(specs []string) []*string {
	out := make([]*string, len(specs))
	for i := range specs {
		if specs[i] != "" {
			out[i] = &specs[i]
		}
	}
	return out
}

// writeCaseArray records an assembled or solved array in a case file.
func writeCaseArray(path, name string, g mdraid.Geometry, members []*string) error {
	copied := make([]*string, len(members))
	for i, m := range members {
		if m != nil {
			s := *m
			copied[i] = &s
		}
	}
	return casefile.SetArray(path, casefile.Array{Name: name, Level: g.Level, Layout: g.Layout,
		ChunkBytes: g.ChunkBytes, DataOffset: g.DataOffset, DataSize: g.DataSize, Members: copied})
}

func printAssemble(w io.Writer, r assembleReport) error {
	pairs := [][2]string{
		{"Name", r.Name}, {"Geometry from", r.Source}, {"Level", r.Level}, {"Layout", r.Layout},
		{"Chunk", bytesText(r.ChunkBytes)}, {"Raid disks", strconv.Itoa(r.RaidDisks)},
		{"Data offset", bytesText(r.DataOffset)}, {"Data size", bytesText(r.DataSize)},
		{"Array size", bytesText(r.ArraySize)},
	}
	if r.ArrayUUID != "" {
		pairs = append(pairs, [2]string{"Array UUID", r.ArrayUUID}, [2]string{"Metadata", r.Metadata})
	}
	if r.SHA256 != "" {
		pairs = append(pairs, [2]string{"sha256", r.SHA256})
	}
	if err := render.KeyValues(w, pairs); err != nil {
		return err
	}
	rows := make([][]string, len(r.Members))
	for i, m := range r.Members {
		dev := "missing"
		if m != nil {
			dev = *m
		}
		rows[i] = []string{strconv.Itoa(i), dev}
	}
	fmt.Fprintln(w)
	if err := render.Table(w, []string{"ROLE", "DEVICE"}, rows); err != nil {
		return err
	}
	if len(r.Candidates) > 0 {
		rows = rows[:0]
		for _, c := range r.Candidates {
			role := "-"
			if c.Role != nil {
				role = strconv.Itoa(*c.Role)
			}
			rows = append(rows, []string{c.Device, c.Superblock, c.ArrayUUID, role, strconv.FormatUint(c.Events, 10), c.Status, c.Why})
		}
		fmt.Fprintln(w)
		if err := render.Table(w, []string{"DEVICE", "SUPERBLOCK", "ARRAY UUID", "ROLE", "EVENTS", "STATUS", "WHY"}, rows); err != nil {
			return err
		}
	}
	for _, warning := range r.Warnings {
		fmt.Fprintln(w, "warning:", warning)
	}
	return nil
}
