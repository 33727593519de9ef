package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"holmes/blockdev"
	"holmes/casefile"
	"holmes/mdraid"
)

// MdAssembleOptions are holmes md assemble's arguments and flags.
type MdAssembleOptions struct {
	*Factory
	Devices   []string
	JSON      bool
	Geometry  geometryFlags
	UUID      string
	Name      string
	WriteCase string
	SHA256    bool
	// geometryGiven: a geometry flag other than --level was set.
	geometryGiven bool
}

// NewCmdMdAssemble builds holmes md assemble; runF replaces the run (tests).
func NewCmdMdAssemble(f *Factory, runF func(*MdAssembleOptions) error) *cobra.Command {
	opts := &MdAssembleOptions{Factory: f}
	cmd := &cobra.Command{
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
		Example: `  holmes md assemble --level raid10 --layout n2 --chunk 512 --data-offset 1024 \
    --order 2,missing,1,0 --name md1 --write-case case.json d0.img d1.img d2.img`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Devices = args
			opts.geometryGiven = opts.Geometry.given(cmd)
			if runF != nil {
				return runF(opts)
			}
			return mdAssembleRun(opts)
		},
	}
	opts.Geometry.register(cmd)
	fl := cmd.Flags()
	addJSONFlag(cmd, &opts.JSON)
	fl.StringVar(&opts.UUID, "uuid", "", "assemble the array with this `UUID` when the DEVs carry several")
	fl.StringVar(&opts.Name, "name", "md0", "the array's `NAME` in reports and the case file")
	fl.StringVar(&opts.WriteCase, "write-case", "", "record the array in case `FILE` (created or updated)")
	fl.BoolVar(&opts.SHA256, "sha256", false, "read the whole array and report its sha256")
	return cmd
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

func mdAssembleRun(opts *MdAssembleOptions) error {
	var (
		arr    *mdraid.Array
		report assembleReport
		devs   []blockdev.Device // opened here, closed here: the array closes nothing
		err    error
	)
	if opts.Geometry.level != "" {
		arr, report, devs, err = assembleFromFlags(opts)
	} else if opts.geometryGiven || opts.Geometry.order != "" {
		return usageError{errors.New("geometry flags need --level (without it the superblocks decide)")}
	} else {
		arr, report, devs, err = assembleFromSuperblocks(opts)
	}
	if err != nil {
		return err
	}
	defer closeAll(devs)
	report.Name = opts.Name
	report.Geometry = arr.Geometry()
	report.ArraySize = arr.Size()
	if report.Warnings == nil {
		report.Warnings = []string{}
	}
	if opts.SHA256 {
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(arr, 0, arr.Size())); err != nil {
			return err
		}
		report.SHA256 = fmt.Sprintf("%x", h.Sum(nil))
	}
	if opts.WriteCase != "" {
		if err := casefile.RecordArray(opts.WriteCase, opts.Name, report.Geometry, report.Metadata, report.Members); err != nil {
			return err
		}
	}
	return emit(opts.Out, opts.JSON, report, func(w io.Writer) error { return printAssemble(w, report) })
}

func assembleFromFlags(opts *MdAssembleOptions) (*mdraid.Array, assembleReport, []blockdev.Device, error) {
	report := assembleReport{Source: "flags"}
	specs, err := roleOrder(opts.Devices, opts.Geometry.order)
	if err != nil {
		return nil, report, nil, err
	}
	g, err := opts.Geometry.geometry(len(specs))
	if err != nil {
		return nil, report, nil, err
	}
	devs, err := openRoles(opts.Factory, specs)
	if err != nil {
		return nil, report, nil, err
	}
	arr, err := mdraid.Open(g, devs, opts.Name)
	if err != nil {
		closeAll(devs)
		return nil, report, nil, err
	}
	report.Members = casefile.MemberList(specs)
	return arr, report, devs, nil
}

func assembleFromSuperblocks(opts *MdAssembleOptions) (*mdraid.Array, assembleReport, []blockdev.Device, error) {
	report := assembleReport{Source: "superblocks"}
	devs, err := opts.OpenDevices(opts.Devices)
	if err != nil {
		return nil, report, nil, err
	}
	plan, err := mdraid.PlanFromSuperblocks(devs, opts.UUID)
	if err != nil {
		closeAll(devs)
		return nil, report, nil, err
	}
	arr, err := plan.Open(devs, opts.Name)
	if err != nil {
		closeAll(devs)
		return nil, report, nil, err
	}
	specs := make([]string, len(plan.Roles))
	for r, i := range plan.Roles {
		if i >= 0 {
			specs[r] = opts.Devices[i]
		}
	}
	report.ArrayUUID, report.Metadata = plan.ArrayUUID, plan.Metadata
	report.Members, report.Candidates, report.Warnings = casefile.MemberList(specs), plan.Candidates, plan.Warnings
	return arr, report, devs, nil
}

// openRoles opens the DEVs of each role; "" stays nil (missing).
func openRoles(f *Factory, specs []string) ([]blockdev.Device, error) {
	devs := make([]blockdev.Device, len(specs))
	for i, s := range specs {
		if s == "" {
			continue
		}
		d, err := f.OpenDevice(s)
		if err != nil {
			closeAll(devs)
			return nil, err
		}
		devs[i] = d
	}
	return devs, nil
}
