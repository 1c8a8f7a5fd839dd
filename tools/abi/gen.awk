# SPDX-License-Identifier: GPL-2.0
# gen.awk - write the C of tools/abi-check from the item list.
#
#   awk -v mode=ours -f gen.awk items > ours.c
#	A program that includes our header (given with gcc -include) and
#	prints ours_values.h: one OURS_* macro per value our header gives.
#	It also asserts that every struct is covered by its members without
#	gaps, which proves that items.awk missed none.
#   awk -v mode=check -v kver=6.1 -v diffs=FILE -f gen.awk items > check.c
#	_Static_asserts of OURS_* against the kernel's <linux/vfio.h>, one
#	per value.  Lines of FILE that start with kver (or "*", every kernel)
#	replace the assertions of an item by the kernel's documented value
#	(see tools/abi/differences).
#
# Items (from items.awk, plus "macro NAME" lines):
#   macro NAME | enum NAME | struct S | member S M | flex S M

function die(msg) {
	printf "gen.awk: %s\n", msg > "/dev/stderr"
	failed = 1
	exit 1
}

function sa(expr, msg) { printf "_Static_assert(%s,\n\t\"%s\");\n", expr, msg }
function put(name, expr) { printf "\tP(\"%s\", %s);\n", name, expr }

BEGIN {
	if (mode == "ours") {
		print "#include <stdio.h>"
		print "#include \"abi.h\""
		print "#define P(name, v) printf(\"#define %s (%lld)\\n\", name, (long long)(v))"
	} else if (mode == "check") {
		print "#include <linux/vfio.h>"
		print "#include \"abi.h\""
		print "#include \"ours_values.h\""
		while (diffs != "" && (getline line < diffs) > 0) {
			if (line ~ /^[ \t]*(#|$)/)
				continue
			split(line, w, /[ \t]+/)
			if (w[1] != kver && w[1] != "*")
				continue
			if (w[2] == "sizeof" && w[4] ~ /^[0-9]+$/)
				dsize[w[3]] = w[4]
			else if (w[2] == "absent" && w[3] ~ /\./)
				dabsent[w[3]] = 1
			else if (w[2] == "padding" && w[3] ~ /\./)
				dpad[w[3]] = 1
			else
				die(diffs ": bad line: " line)
			ndiff++
		}
	} else {
		die("mode must be ours or check")
	}
}

# Close the struct that was open: in ours mode, no bytes after the last
# member (a flexible array member adds none).
function close_struct() {
	if (mode == "ours" && cur != "")
		sa("sizeof(struct " cur ") == " next_off,
		   "struct " cur ": padding or an unparsed member at its end")
	cur = ""
}

$1 == "macro" || $1 == "enum" {
	close_struct()
	if (mode == "ours") {
		body = body sprintf("\tP(\"OURS_V_%s\", %s);\n", $2, $2)
		if ($1 == "macro")
			body = body sprintf("\tP(\"OURS_T_%s\", ABI_TYPE(%s));\n", $2, $2)
	} else if ($1 == "macro") {
		sa("OURS_V_" $2 " == (long long)(" $2 ") && OURS_T_" $2 " == ABI_TYPE(" $2 ")",
		   $2 ": value or type")
	} else {
		sa("OURS_V_" $2 " == (long long)(" $2 ")", $2 ": value")
	}
	next
}

$1 == "struct" {
	close_struct()
	cur = $2
	prev = ""
	padend = ""
	next_off = "0"
	if (mode == "ours") {
		body = body sprintf("\tP(\"OURS_SIZEOF_%s\", sizeof(struct %s));\n", cur, cur)
		body = body sprintf("\tP(\"OURS_ALIGNOF_%s\", _Alignof(struct %s));\n", cur, cur)
	} else if (cur in dsize) {
		sa("sizeof(struct " cur ") == " dsize[cur],
		   "sizeof(struct " cur ") is " dsize[cur] " in " kver " (documented difference)")
		used[cur] = 1
	} else {
		sa("OURS_SIZEOF_" cur " == sizeof(struct " cur ")", "sizeof(struct " cur ")")
	}
	if (mode == "check")
		sa("OURS_ALIGNOF_" cur " == _Alignof(struct " cur ")", "_Alignof(struct " cur ")")
	next
}

$1 == "member" || $1 == "flex" {
	if ($2 != cur)
		die("member " $3 " outside struct " $2)
	s = $2; m = $3; id = s "__" m
	# The member as an expression; for a flexible array, its first element.
	e = "ABI_MEMBER(" s ", " m ($1 == "flex" ? "[0]" : "") ")"
	what = ($1 == "flex") ? "element size" : "size"
	if (mode == "ours") {
		sa("offsetof(struct " s ", " m ") == " next_off,
		   "struct " s ": padding or an unparsed member before " m)
		body = body sprintf("\tP(\"OURS_OFF_%s\", offsetof(struct %s, %s));\n", id, s, m)
		body = body sprintf("\tP(\"OURS_SIZE_%s\", sizeof(%s));\n", id, e)
		body = body sprintf("\tP(\"OURS_TYPE_%s\", ABI_TYPE(%s));\n", id, e)
	} else if ((s "." m) in dpad) {
		# The kernel's implicit padding, named here: it must follow the
		# member before it, and the next member must start where it ends.
		if (prev == "")
			die(diffs ": " s "." m " is the first member")
		pe = "ABI_MEMBER(" s ", " prev ")"
		sa("OURS_OFF_" id " == offsetof(struct " s ", " prev ") + sizeof(" pe ")",
		   s "." m ": implicit padding in " kver ", must follow " s "." prev " (documented difference)")
		padend = "OURS_OFF_" id " + OURS_SIZE_" id
		padname = s "." m
		used[s "." m] = 1
		prev = m
		next
	} else if ((s "." m) in dabsent) {
		# Not in this kernel: it must sit right after the member before it
		# and reach the end of the kernel's struct (a tail addition).
		if (prev == "")
			die(diffs ": " s "." m " is the first member")
		pe = "ABI_MEMBER(" s ", " prev ")"
		sa("OURS_OFF_" id " == offsetof(struct " s ", " prev ") + sizeof(" pe ")",
		   s "." m ": absent in " kver ", must follow " s "." prev " (documented difference)")
		sa("OURS_OFF_" id " + OURS_SIZE_" id " >= sizeof(struct " s ")",
		   s "." m ": absent in " kver ", must end the struct (documented difference)")
		used[s "." m] = 1
	} else {
		if (padend != "")
			sa(padend " == offsetof(struct " s ", " m ")",
			   padname ": implicit padding in " kver ", must end where " s "." m " starts (documented difference)")
		padend = ""
		sa("OURS_OFF_" id " == offsetof(struct " s ", " m ")", "offsetof(struct " s ", " m ")")
		sa("OURS_SIZE_" id " == sizeof(" e ") && OURS_TYPE_" id " == ABI_TYPE(" e ")",
		   s "." m ": " what " or type")
	}
	prev = m
	next_off = "offsetof(struct " s ", " m ") + " ($1 == "flex" ? "0" : "sizeof(" e ")")
	next
}

{ die("bad item: " $0) }

END {
	if (failed)
		exit 1
	close_struct()
	if (mode == "ours") {
		print "int main(void)\n{"
		printf "%s", body
		print "\treturn 0;\n}"
	}
	for (k in dsize)
		if (!(k in used))
			die(diffs ": no struct " k " in our header")
	for (k in dabsent)
		if (!(k in used))
			die(diffs ": no member " k " in our header")
	for (k in dpad)
		if (!(k in used))
			die(diffs ": no member " k " in our header")
}
