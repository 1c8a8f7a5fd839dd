#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# conformance/bind.sh - bind a PCI device to a driver through driver_override,
# and put it back. Sourced (not run) by conformance/run, beside which it is
# installed, and by the testbed's guest scripts (tools/guest/runner, bench,
# run-check, where it is /bind.sh). POSIX sh; busybox's sh runs it too.
#
#   vb_driver BDF                   prints the device's driver; false if none
#   vb_override BDF                 prints its driver_override (nothing if none)
#   vb_bind BDF DRIVER              driver_override = DRIVER, unbind from the
#                                   current driver, drivers_probe; true if the
#                                   device is on DRIVER now
#   vb_unbind BDF                   unbind from its driver, if it has one
#   vb_restore BDF DRIVER OVERRIDE  back to DRIVER (empty: no driver) with
#                                   driver_override OVERRIDE (empty: none);
#                                   true if the device is on DRIVER again
#   vb_endpoints DIR                the endpoints of IOMMU group directory
#                                   DIR (.../iommu_groups/N/devices), a path
#                                   a line: bridges and ports (class 0x0604,
#                                   0x0609) do not count, as in the kernel's
#                                   viability rule (vt_is_endpoint())
#
# VB_SYS is the sysfs root (default /sys; tools/selftest uses a fake one).
# The functions' own variables start with _vb_: the caller's stay untouched.

vb_driver() { # bdf
	_vb_l=$(readlink "${VB_SYS:-/sys}/bus/pci/devices/$1/driver" 2>/dev/null) ||
		return 1
	echo "${_vb_l##*/}"
}

vb_override() { # bdf
	_vb_o=$(cat "${VB_SYS:-/sys}/bus/pci/devices/$1/driver_override" 2>/dev/null)
	[ "$_vb_o" = "(null)" ] || echo "$_vb_o"
}

vb_unbind() { # bdf
	_vb_d=$(vb_driver "$1") || return 0
	echo "$1" >"${VB_SYS:-/sys}/bus/pci/drivers/$_vb_d/unbind"
}

vb_bind() { # bdf driver
	echo "$2" >"${VB_SYS:-/sys}/bus/pci/devices/$1/driver_override" ||
		return 1
	vb_unbind "$1"
	echo "$1" >"${VB_SYS:-/sys}/bus/pci/drivers_probe" 2>/dev/null
	[ "$(vb_driver "$1")" = "$2" ]
}

vb_restore() { # bdf driver override
	_vb_d=$(vb_driver "$1")
	if [ -n "$_vb_d" ] && [ "$_vb_d" != "$2" ]; then
		vb_unbind "$1" 2>/dev/null
	fi
	echo "$3" >"${VB_SYS:-/sys}/bus/pci/devices/$1/driver_override" 2>/dev/null
	if [ -n "$2" ] && [ "$(vb_driver "$1")" != "$2" ]; then
		echo "$1" >"${VB_SYS:-/sys}/bus/pci/drivers_probe" 2>/dev/null
		[ "$(vb_driver "$1")" = "$2" ] ||
			echo "$1" >"${VB_SYS:-/sys}/bus/pci/drivers/$2/bind" 2>/dev/null
	fi
	[ "$(vb_driver "$1")" = "$2" ]
}

vb_endpoints() { # group-devices-dir
	for _vb_e in "$1"/*; do
		case $(cat "$_vb_e/class" 2>/dev/null) in
		0x0604??|0x0609??) ;;
		*) [ -e "$_vb_e" ] && echo "$_vb_e" ;;
		esac
	done
}
