#!/usr/bin/env bash
# Checks C++ formatting (.clang-format) and runs clang-tidy (.clang-tidy).
#
# Usage: scripts/check-style.sh [options] [FILE...]
#   FILE...        check these files, whole
#   (no FILE)      check the lines changed since the base revision (committed, staged,
#                  unstaged and new untracked files), so older code that predates the
#                  style files does not fail a change
#   --all          check every tracked C++ file, whole
#   --base REV     base revision (default: merge-base of HEAD and origin/main, else of
#                  HEAD and main, else HEAD~1)
#   --whole        check changed files whole, not only their changed lines
#   --format-only / --tidy-only   run one of the two tools
#   --build DIR    build folder holding compile_commands.json (default: build; configure
#                  with cmake first, CMAKE_EXPORT_COMPILE_COMMANDS is on)
#   -j N           clang-tidy processes in parallel (default 2)
# Exit status: 0 clean (or tools missing: skipped with a message), 1 findings, 2 usage error.
# Tools: clang-format and clang-tidy 14 or later (Debian: apt-get install clang-format clang-tidy);
# CLANG_FORMAT / CLANG_TIDY name other binaries. To apply the formatting to a file:
# clang-format -i FILE (review the diff: hand-aligned tables may want // clang-format off).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
root=$(pwd)

mode=changed base="" whole=0 do_format=1 do_tidy=1 build=build jobs=2
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --all) mode=all ;;
    --base) base="${2:?--base needs a revision}"; shift ;;
    --whole) whole=1 ;;
    --format-only) do_tidy=0 ;;
    --tidy-only) do_format=0 ;;
    --build) build="${2:?--build needs a folder}"; shift ;;
    -j) jobs="${2:?-j needs a number}"; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; files+=("$@"); break ;;
    -*) echo "check-style: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) files+=("$1") ;;
  esac
  shift
done
[ ${#files[@]} -gt 0 ] && mode=files

clang_format=${CLANG_FORMAT:-clang-format}
clang_tidy=${CLANG_TIDY:-clang-tidy}
if [ "$do_format" = 1 ] && ! command -v "$clang_format" >/dev/null 2>&1; then
  echo "check-style: $clang_format not installed: formatting not checked (Debian: apt-get install clang-format)"
  do_format=0
fi
if [ "$do_tidy" = 1 ] && ! command -v "$clang_tidy" >/dev/null 2>&1; then
  echo "check-style: $clang_tidy not installed: clang-tidy not run (Debian: apt-get install clang-tidy)"
  do_tidy=0
fi
if [ "$do_tidy" = 1 ] && [ ! -f "$build/compile_commands.json" ]; then
  echo "check-style: no $build/compile_commands.json: clang-tidy not run (configure with cmake first)"
  do_tidy=0
fi
[ "$do_format" = 0 ] && [ "$do_tidy" = 0 ] && exit 0

is_cxx() { case "$1" in *.cpp|*.hpp|*.cc|*.h) return 0 ;; *) return 1 ;; esac; }

# The files, and for the changed-lines mode the new line ranges of each ("a:b a:b ...",
# empty = the whole file).
declare -A ranges=()
case "$mode" in
  files)
    sel=()
    for f in "${files[@]}"; do
      [ -f "$f" ] || { echo "check-style: no such file: $f" >&2; exit 2; }
      is_cxx "$f" && sel+=("$(realpath --relative-to="$root" "$f")")
    done
    files=("${sel[@]+"${sel[@]}"}") ;;
  all)
    mapfile -t files < <(git ls-files -- '*.cpp' '*.hpp' '*.cc' '*.h') ;;
  changed)
    if [ -z "$base" ]; then
      head=$(git rev-parse HEAD)
      for ref in origin/main main; do
        git rev-parse -q --verify "$ref^{commit}" >/dev/null || continue
        mb=$(git merge-base HEAD "$ref" 2>/dev/null) || continue
        # On the main line itself the merge-base is HEAD: fall back to the last commit.
        [ "$mb" != "$head" ] && { base=$mb; break; }
      done
      [ -z "$base" ] && base=$(git rev-parse -q --verify 'HEAD~1^{commit}')
      [ -z "$base" ] && { echo "check-style: no base revision (a single commit?): use --all or files" >&2; exit 2; }
    fi
    git rev-parse -q --verify "$base^{commit}" >/dev/null || { echo "check-style: bad revision $base" >&2; exit 2; }
    echo "check-style: changes since $(git rev-parse --short "$base")"
    mapfile -t files < <({ git diff --name-only --diff-filter=ACMR "$base" -- '*.cpp' '*.hpp' '*.cc' '*.h'
                           git ls-files --others --exclude-standard -- '*.cpp' '*.hpp' '*.cc' '*.h'; } | sort -u)
    if [ "$whole" = 0 ]; then
      for f in "${files[@]}"; do
        git ls-files --error-unmatch -- "$f" >/dev/null 2>&1 || continue  # untracked: whole file
        # "@@ -a,b +c,d @@": new lines c .. c+d-1 (d omitted = 1; d = 0 is a pure deletion).
        r=$(git diff -U0 --no-color "$base" -- "$f" | sed -n 's/^@@ -[0-9,]* +\([0-9]*\)\(,\([0-9]*\)\)\{0,1\} @@.*/\1 \3/p' |
            awk '{n = ($2 == "") ? 1 : $2; if (n > 0) printf "%d:%d ", $1, $1 + n - 1}')
        ranges[$f]=${r:-none}
      done
    fi ;;
esac
# Keep files that exist and have something to check.
sel=()
for f in "${files[@]+"${files[@]}"}"; do
  [ -f "$f" ] && is_cxx "$f" && [ "${ranges[$f]:-}" != none ] && sel+=("$f")
done
files=("${sel[@]+"${sel[@]}"}")
if [ ${#files[@]} -eq 0 ]; then
  echo "check-style: no C++ files to check"
  exit 0
fi
echo "check-style: ${#files[@]} file(s)"

status=0

if [ "$do_format" = 1 ]; then
  nbad=0
  for f in "${files[@]}"; do
    args=()
    for r in ${ranges[$f]:-}; do args+=("--lines=$r"); done
    if ! out=$("$clang_format" --dry-run --Werror "${args[@]+"${args[@]}"}" "$f" 2>&1); then
      nbad=$((nbad + 1))
      printf '%s\n' "$out" | head -n 40
    fi
  done
  if [ "$nbad" -gt 0 ]; then
    echo "check-style: clang-format: $nbad file(s) not formatted (clang-format -i FILE, then review)"
    status=1
  else
    echo "check-style: clang-format: clean"
  fi
fi

if [ "$do_tidy" = 1 ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # One clang-tidy per file (headers too, with a command inferred from a neighbour in
  # compile_commands.json); -line-filter keeps the warnings in that file (and its changed
  # lines), so a header's warnings are reported once, by its own run.
  i=0
  for f in "${files[@]}"; do
    lines=""
    for r in ${ranges[$f]:-}; do lines+="${lines:+,}[${r%%:*},${r##*:}]"; done
    printf '[{"name":"%s"%s}]\n' "$f" "${lines:+,\"lines\":[$lines]}" > "$tmp/$i.filter"
    printf '%s\n' "$f" > "$tmp/$i.file"
    i=$((i + 1))
  done
  export clang_tidy build tmp
  # __builtin_cpu_supports("x86-64-v4") is GCC 12's; clang before 19 rejects the string,
  # so clang-tidy sees a constant instead (src/model/isa.cpp and the model tests).
  # shellcheck disable=SC2016 # expanded by the inner sh
  seq 0 $((i - 1)) | xargs -P "$jobs" -I{} sh -c \
    '"$clang_tidy" -p "$build" --quiet --line-filter="$(cat "$tmp/$1.filter")" \
       "--extra-arg=-D__builtin_cpu_supports(x)=0" "$(cat "$tmp/$1.file")" > "$tmp/$1.log" 2>&1; true' sh {}
  nwarn=0
  for n in $(seq 0 $((i - 1))); do
    log="$tmp/$n.log" f=$(cat "$tmp/$n.file")
    # Compiler errors: code clang cannot compile (GCC-only extensions, or C++20 that this
    # clang lacks, e.g. lambdas capturing structured bindings before clang 16). The GCC
    # build is the judge of those: reported, not counted.
    if grep -q 'error: .*\[clang-diagnostic-error\]' "$log"; then
      echo "check-style: clang-tidy: $f: not analysed, clang could not compile it:"
      grep -m 2 'error: .*\[clang-diagnostic-error\]' "$log" | sed 's/^/  /'
    fi
    k=$(grep -c ': warning: .*\]$' "$log")
    if [ "$k" -gt 0 ]; then
      grep -v -e '^[0-9]* warnings\{0,1\} .*generated\.$' -e '^Error while processing' "$log" |
        awk '/: error: .*\[clang-diagnostic-error\]$/ {skip = 1; next} /: (warning|error): / {skip = 0} !skip'
      nwarn=$((nwarn + k))
    fi
  done
  if [ "$nwarn" -gt 0 ]; then
    echo "check-style: clang-tidy: $nwarn warning(s)"
    status=1
  else
    echo "check-style: clang-tidy: clean"
  fi
fi
exit "$status"
