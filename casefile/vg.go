package casefile

import (
	"fmt"

	"holmes/blockdev"
)

// openLV maps logical volume vg/lv over the PVs the case file names.
func (c *Case) openLV(vg, lv string) (blockdev.Device, error) {
	return nil, fmt.Errorf("%s/%s: logical volumes are not mapped yet", vg, lv)
}
