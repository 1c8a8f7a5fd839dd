# SPDX-License-Identifier: GPL-2.0
# items.awk - list the structures, members and enumerators a uapi header
# defines, from `gcc -E` output of that header.
#
#   awk -v hdr=PATH -f items.awk preprocessed.i
#
# Only lines that come from hdr itself are read (the linemarkers say which).
# Prints one item a line:
#   struct S          a structure
#   member S M        a member of S
#   flex S M          a flexible array member of S
#   enum E            an enumerator
# The header may hold nothing else than structs and enums: anything the
# parser does not understand (a typedef, a union, a nested or anonymous
# aggregate, a bit-field, several declarators in one declaration) is an error,
# so no item can be skipped silently.

function die(msg) {
	printf "items.awk: %s: %s\n", hdr, msg > "/dev/stderr"
	failed = 1
	exit 1
}

# Linemarker: # LINE "FILE" FLAGS...
/^# [0-9]+ "/ {
	f = $3
	gsub(/"/, "", f)
	mine = (f == hdr)
	next
}

mine { text = text " " $0 }

END {
	if (failed)
		exit 1
	# Attributes (from __aligned_u64) change no name; their effect on the
	# layout is what the offsets and sizes check.
	gsub(/__attribute__ *\(\(([^()]|\([^()]*\))*\)\)/, " ", text)
	gsub(/[{};,=*\[\]]/, " & ", text)
	sub(/^[ \t]+/, "", text)
	n = split(text, t, /[ \t]+/)
	i = 1
	while (i <= n && t[i] != "") {
		if (t[i] == "struct" && t[i + 2] == "{") {
			i = parse_struct(t[i + 1], i + 3)
		} else if (t[i] == "enum") {
			i = parse_enum(i + 1)
		} else {
			die("unexpected top-level token '" t[i] "'")
		}
	}
	if (!nitems)
		die("no structs or enums found")
}

# Members up to the closing "} ;"; returns the index after it.
function parse_struct(s, i,    nd, d, k, decl) {
	print "struct " s
	nitems++
	while (i <= n) {
		nd = 0
		while (i <= n && t[i] != ";" && t[i] != "}")
			d[++nd] = t[i++]
		if (t[i] == "}") {
			if (nd)
				die("struct " s ": declaration without ';'")
			if (t[i + 1] != ";")
				die("struct " s ": expected ';' after '}'")
			return i + 2
		}
		i++	# the ';'
		decl = ""
		for (k = 1; k <= nd; k++)
			decl = decl " " d[k]
		if (decl ~ /[{},:(=]/ || nd < 2)
			die("struct " s ": cannot parse member '" decl "'")
		if (d[nd] == "]" && d[nd - 1] == "[") {
			print "flex " s " " d[nd - 2]
		} else if (d[nd] == "]") {
			die("struct " s ": fixed-size arrays are not supported: '" decl "'")
		} else {
			print "member " s " " d[nd]
		}
	}
	die("struct " s ": no closing '}'")
}

# Enumerators up to the closing "} ;"; returns the index after it.
function parse_enum(i,    want) {
	if (t[i] != "{")
		i++	# a tag
	if (t[i] != "{")
		die("enum: expected '{'")
	i++
	want = 1
	for (; i <= n; i++) {
		if (t[i] == "}") break
		if (t[i] == ",") { want = 1; continue }
		if (want) {
			if (t[i] !~ /^[A-Za-z_][A-Za-z0-9_]*$/)
				die("enum: bad enumerator '" t[i] "'")
			print "enum " t[i]
			nitems++
			want = 0
		}
	}
	if (t[++i] != ";")
		die("enum: expected ';' after '}'")
	return i + 1
}
