#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# tools/lib/apt-suite.sh - apt on one Debian suite through a private state.
# Sourced (not run) by tools/abi-check and tools/kernel-fetch.
#
# The state of SUITE lives in $APT_SUITE_CACHE/SUITE (the caller sets
# APT_SUITE_CACHE, the project uses .cache/apt): sources.list, lists,
# archives and the log of the last apt-get run. Nothing under /etc/apt is
# read or written and the host's dpkg status is not consulted, so the host's
# sources, lists and pinning stay as they are. apt-get update checks the
# suite's signature against the Debian archive keyring; apt-get download
# checks each package against the signed hashes.
#
#   apt_suite_update SUITE           (re)write sources.list, apt-get update
#   apt_suite SUITE COMMAND ARGS...  COMMAND (apt-get, apt-cache) on the state
#   apt_suite_download SUITE DIR PACKAGE...   apt-get download into DIR
#   apt_suite_has_lists SUITE        true if an update has fetched lists
# All but apt_suite append their apt output to $APT_SUITE_CACHE/SUITE/log.
# update and download hold $APT_SUITE_CACHE/SUITE.lock (flock, fd 8): the
# state may be shared by clones (tools/cache-link) and parallel lanes.

apt_suite() { # suite command args...
	_as_dir=$APT_SUITE_CACHE/$1 _as_cmd=$2
	shift 2
	"$_as_cmd" -q -o Dir::Etc::SourceList="$_as_dir/sources.list" \
		-o Dir::Etc::SourceParts="$_as_dir/none" -o Dir::Etc::Preferences="$_as_dir/none/x" \
		-o Dir::Etc::PreferencesParts="$_as_dir/none" -o Dir::State::Lists="$_as_dir/lists" \
		-o Dir::Cache="$_as_dir" -o Dir::State::status=/dev/null -o Debug::NoLocking=1 \
		-o APT::Sandbox::User="$(id -un)" -o Acquire::Languages=none "$@"
}

apt_suite_update() { # suite
	_as_dir=$APT_SUITE_CACHE/$1
	# The mirror the project configured for bookworm-backports (tools/deps).
	_as_mirror=$(awk '/^URIs:/ { print $2; exit }' \
		/etc/apt/sources.list.d/vfio-groups-bookworm-backports.sources 2>/dev/null || true)
	mkdir -p "$_as_dir/lists/partial" "$_as_dir/archives/partial" "$_as_dir/none"
	printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
		"${_as_mirror:-http://deb.debian.org/debian}" "$1" >"$_as_dir/sources.list"
	(flock 8 && apt_suite "$1" apt-get --error-on=any update >"$_as_dir/log" 2>&1) \
		8>"$APT_SUITE_CACHE/$1.lock"
}

apt_suite_download() { # suite dir package...
	_as_suite=$1 _as_to=$2
	shift 2
	(flock 8 && cd "$_as_to" && apt_suite "$_as_suite" apt-get download "$@") \
		>>"$APT_SUITE_CACHE/$_as_suite/log" 2>&1 8>"$APT_SUITE_CACHE/$_as_suite.lock"
}

apt_suite_has_lists() { # suite
	ls "$APT_SUITE_CACHE/$1/lists/"*_Packages* >/dev/null 2>&1
}
