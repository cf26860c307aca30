#!/usr/bin/env bash
# Runs every native Go fuzz target of the module for a bounded time, one at a time.
#
#   .ci/fuzz.sh                 each Fuzz* target for 8 s (every target runs; the total stays
#                               about a minute, so that .ci/run ends within 5 minutes)
#   FUZZTIME=1m .ci/fuzz.sh     longer runs
#   .ci/fuzz.sh ./connectivity/ only the targets of one package
#
# The seed corpora under <package>/testdata/fuzz/<FuzzName>/ also run in every plain `go test`.
# A failing input is written there by `go test -fuzz`; commit it with the fix as a regression seed.
set -euo pipefail

cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-8s}"
# Two workers: the machine is shared; -parallel bounds the fuzzing processes.
parallel="${FUZZPARALLEL:-2}"

if [ "$#" -gt 0 ]; then
	packages=("$@")
else
	# Only packages whose test files declare a fuzz target: no test binary is built for the rest.
	mapfile -t packages < <(go list -f '{{.ImportPath}} {{.Dir}}' ./... | while read -r path dir; do
		if grep -qs '^func Fuzz' "$dir"/*_test.go; then
			echo "./${path}"
		fi
	done | sed "s|^\./$(go list -m)|.|")
fi

ran=0
failed=()
flaked=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for pkg in "${packages[@]}"; do
	[ -n "$pkg" ] || continue
	# The fuzz targets declared in the package's test files (read from the source: `go test -list`
	# would build a test binary only to name them).
	dir=$(go list -f '{{.Dir}}' "$pkg")
	mapfile -t targets < <(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*\*testing\.F).*/\1/p' "$dir"/*_test.go 2>/dev/null | sort -u)
	for target in "${targets[@]}"; do
		[ -n "$target" ] || continue
		echo "=== fuzz ${pkg} ${target} (${fuzztime})"
		corpus="${pkg}/testdata/fuzz/${target}"
		before=$(ls "$corpus" 2>/dev/null | sort || true)
		if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -parallel "$parallel" "$pkg" 2>&1 | tee "$log"; then
			ran=$((ran + 1))
			continue
		fi
		after=$(ls "$corpus" 2>/dev/null | sort || true)
		# Go 1.26's fuzz coordinator can fail a target with a bare "context deadline exceeded" as
		# -fuzztime ends (golang/go#75804, fixed in Go 1.27). A real crash or hang always writes
		# its input to the corpus folder; without one, the run counts as that known flake.
		if [ "$before" = "$after" ] && grep -q '^    context deadline exceeded$' "$log"; then
			echo "fuzz: ${target}: the Go 1.26 fuzz coordinator's deadline race (golang/go#75804), no failing input: not a failure"
			ran=$((ran + 1))
			flaked+=("${pkg} ${target}")
		else
			failed+=("${pkg} ${target}")
		fi
	done
done

if [ "${#failed[@]}" -gt 0 ]; then
	echo "fuzz: ${#failed[@]} target(s) failed:" >&2
	printf '  %s\n' "${failed[@]}" >&2
	echo "fuzz: the failing inputs are in <package>/testdata/fuzz/<target>/; see git status" >&2
	exit 1
fi
if [ "$ran" -eq 0 ]; then
	echo "fuzz: no fuzz targets found" >&2
	exit 1
fi
echo "fuzz: ${ran} target(s) passed, ${fuzztime} each (${#flaked[@]} hit golang/go#75804 at the deadline)"
