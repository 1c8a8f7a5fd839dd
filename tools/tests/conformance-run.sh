#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Checks conformance/run's plan and refusals on a fake sysfs and procfs
# (RUN_SYSFS, RUN_PROCFS): a SATA controller with a mounted disk in the
# group of an idle SMBus controller, a NIC whose interface is up or down,
# and an NVMe controller whose namespace (native multipath: under its
# subsystem, not below the controller) has a mounted partition. Prints "ok   ..." or "FAIL ..." per check. Run by tools/selftest.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
run=$top/conformance/run
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
s=$tmp/sys p=$tmp/proc

# dev BDF CLASS VENDOR DEVICE DRIVER GROUP
dev() {
	d=$s/devices/pci0000:00/$1
	mkdir -p "$d" "$s/bus/pci/drivers/$5" "$s/kernel/iommu_groups/$6/devices"
	echo "$2" >"$d/class"; echo "0x$3" >"$d/vendor"; echo "0x$4" >"$d/device"
	echo "(null)" >"$d/driver_override"
	ln -s "../../../bus/pci/drivers/$5" "$d/driver"
	ln -s "../../../kernel/iommu_groups/$6" "$d/iommu_group"
	ln -s "../../../../devices/pci0000:00/$1" "$s/kernel/iommu_groups/$6/devices/$1"
	ln -s "../../../devices/pci0000:00/$1" "$s/bus/pci/devices/$1"
}
mkdir -p "$s/bus/pci/devices" "$s/bus/pci/drivers/vfio-pci" "$s/block" "$s/class/net" "$p"
dev 0000:00:1f.2 0x010601 8086 2922 ahci 5
dev 0000:00:1f.3 0x0c0500 8086 2930 i801_smbus 5
dev 0000:01:00.0 0x020000 8086 1533 igb 7
blk=$s/devices/pci0000:00/0000:00:1f.2/ata1/host0/block/sda
mkdir -p "$blk/sda1/holders" "$blk/holders"
ln -s ../devices/pci0000:00/0000:00:1f.2/ata1/host0/block/sda "$s/block/sda"
net=$s/devices/pci0000:00/0000:01:00.0/net/eth0
mkdir -p "$net"
ln -s ../.. "$net/device"
ln -s ../../devices/pci0000:00/0000:01:00.0/net/eth0 "$s/class/net/eth0"
# nvme0n1 as Debian's kernels (CONFIG_NVME_MULTIPATH=y) lay it out.
dev 0000:02:00.0 0x010802 144d a808 nvme 9
ctrl=$s/devices/pci0000:00/0000:02:00.0/nvme/nvme0
subsys=$s/devices/virtual/nvme-subsystem/nvme-subsys0
mkdir -p "$ctrl" "$subsys/nvme0n1/nvme0n1p2/holders" "$subsys/nvme0n1/holders"
ln -s ../.. "$ctrl/device"
ln -s ../../../pci0000:00/0000:02:00.0/nvme/nvme0 "$subsys/nvme0"
ln -s ../devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1 "$s/block/nvme0n1"
echo "/dev/sda1 / ext4 rw 0 0" >"$p/mounts"
echo "/dev/nvme0n1p2 /home ext4 rw 0 0" >>"$p/mounts"
echo "Filename Type Size Used Priority" >"$p/swaps"

check() { # name want-status want-regex args...
	name=$1 want=$2 re=$3; shift 3
	RUN_SYSFS=$s RUN_PROCFS=$p "$run" --impl upstream --check "$@" >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" = "$want" ] && grep -Eq "$re" "$tmp/out"; then
		echo "ok   conformance/run: $name"
	else
		echo "FAIL conformance/run: $name (exit $rc, want $want and /$re/)"
		sed 's/^/     /' "$tmp/out"
	fi
}
check "refuses a group with a mounted disk's controller" 2 \
	'0000:00:1f.2 \(IOMMU group 5, driver ahci\): /dev/sda1 is mounted on /$' --device 0000:00:1f.3
check "refuses an NVMe whose multipath namespace is mounted" 2 \
	'0000:02:00.0 \(IOMMU group 9, driver nvme\): /dev/nvme0n1p2 is mounted on /home$' --device 0000:02:00.0
echo 4099 >"$net/flags"
check "refuses a device with a network interface up" 2 \
	'0000:01:00.0 \(IOMMU group 7, driver igb\): network interface eth0 is up' --device 01:00.0
echo 4098 >"$net/flags"
check "binds an idle NIC, found by VENDOR:DEVICE" 0 \
	'0000:01:00.0 \(group 7\): igb -> vfio-pci' --device 8086:1533
check "--force takes a group in use" 0 \
	'0000:00:1f.2 \(group 5\): ahci -> vfio-pci' --force --device 0000:00:1f.3
echo "/dev/sdb1 /mnt ext4 rw 0 0" >"$p/mounts"
mkdir -p "$blk/sda1/holders/dm-0"
check "refuses a disk held by device-mapper" 2 'sda1 is held by dm-0' --device 0000:00:1f.3
check "an unknown device is a usage error" 2 'no PCI device 0000:09:00.0' --device 0000:09:00.0

# conformance/bind.sh on the same fake sysfs, which does not react: vb_bind
# writes the override, unbinds, asks for a probe and reports the failure;
# vb_restore puts the override back.
lib() { # name command...
	name=$1; shift
	if (VB_SYS=$s; . "$top/conformance/bind.sh"; "$@") >"$tmp/out" 2>&1; then
		echo "ok   bind.sh: $name"
	else
		echo "FAIL bind.sh: $name"; sed 's/^/     /' "$tmp/out"
	fi
}
nic=0000:01:00.0
lib "vb_driver and vb_override read a device" \
	eval '[ "$(vb_driver '$nic')" = igb ] && [ -z "$(vb_override '$nic')" ]'
lib "vb_bind writes the override, unbinds, probes, reports no bind" \
	eval '! vb_bind '$nic' vfio-pci && [ "$(vb_override '$nic')" = vfio-pci ] &&
	[ "$(cat "$VB_SYS/bus/pci/drivers/igb/unbind")" = '$nic' ] &&
	[ "$(cat "$VB_SYS/bus/pci/drivers_probe")" = '$nic' ]'
lib "vb_restore clears the override of a device on its driver" \
	eval 'vb_restore '$nic' igb "" && [ -z "$(vb_override '$nic')" ]'

# The verdict on a finished run (--judge): a machine without a DMA engine
# (only the tests that need a device passed, the DMA ones skipped) is
# incomplete, exit 3, naming what is missing; --allow-incomplete accepts
# it; a run that exercised every requirement of the map is complete.
judge() { # name want-status want-regex ktap args...
	name=$1 want=$2 re=$3 k=$4; shift 4
	"$run" --judge "$k" "$@" >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" = "$want" ] && grep -Eq "$re" "$tmp/out"; then
		echo "ok   conformance/run: $name"
	else
		echo "FAIL conformance/run: $name (exit $rc, want $want and /$re/)"
		sed 's/^/     /' "$tmp/out"
	fi
}
"$top/tools/trace" --map "$tmp/map" >/dev/null
{
	echo "KTAP version 1"
	echo "# selftests: group"
	awk -F'\t' '$1 ~ /^(group|container)\./ { n++; print "    ok " n " " $1 }' "$tmp/map"
	echo "    ok 900 dma.edu_alone.device_writes_mapped_memory # SKIP no selected device alone in its group for the edu DMA engine"
} >"$tmp/no-engine.ktap"
judge "a run without a DMA engine is incomplete (exit 3) and names DMA-4" 3 \
	'^run: INCOMPLETE: [0-9]+ of [0-9]+ core requirements not exercised: .*DMA-4' "$tmp/no-engine.ktap"
judge "--allow-incomplete accepts an incomplete run" 0 \
	'^run: --allow-incomplete: accepted' "$tmp/no-engine.ktap" --allow-incomplete
awk -F'\t' 'BEGIN { print "KTAP version 1" } { n++; print "    ok " n " " $1 }' "$tmp/map" >"$tmp/all.ktap"
judge "a run that passed every mapped test is complete" 0 \
	'^run: complete: all [0-9]+ core requirements exercised' "$tmp/all.ktap"
