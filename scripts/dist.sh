#!/usr/bin/env bash
# Builds the release archives into OUTDIR, from a clean clone, on Debian or Ubuntu x86_64:
#
#   velt-groups-VERSION-x86_64-unknown-linux-musl.tar.gz  static Linux binary, README, LICENSE,
#                                                         sample config, man page, completions
#   velt-groups-VERSION-x86_64-pc-windows-gnu.zip          velt-groups.exe and the same documents
#   SHA256SUMS                                            over both archives
#
# It installs what is missing (the two rustup targets; musl-tools and gcc-mingw-w64-x86-64
# with apt-get, as root or through sudo), builds with the `dist` profile of Cargo.toml, and
# checks what it made: the Linux binary must be static, at most 25 MB, and read the sample
# workbook through its reader child with an empty PATH and no home; the Windows binary must
# import no DLL outside Windows itself and, where wine is installed, read the sample too.
#
# Usage: bash scripts/dist.sh OUTDIR      (the release workflow runs exactly this)
set -euo pipefail

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'dist.sh: %s\n' "$*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: bash scripts/dist.sh OUTDIR"
cd "$(dirname "$0")/.."
root=$PWD
mkdir -p "$1"
out=$(cd "$1" && pwd)

linux=x86_64-unknown-linux-musl
windows=x86_64-pc-windows-gnu
max_bytes=$((25 * 1024 * 1024))
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || die "no version in Cargo.toml"
target_dir=${CARGO_TARGET_DIR:-$root/target}

# Reproducible archives: file times (and the date in --version) are the commit's.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

# --- what the build needs -------------------------------------------------------------------
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
missing=()
command -v musl-gcc >/dev/null || missing+=(musl-tools)
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
command -v zip >/dev/null || missing+=(zip)
command -v unzip >/dev/null || missing+=(unzip)
if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || die "missing ${missing[*]}, and no apt-get to install them with"
    say "installing ${missing[*]} (apt-get)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v cargo >/dev/null || die "cargo not found; install Rust with rustup"
for target in "$linux" "$windows"; do
    if ! rustc --print sysroot >/dev/null || ! [ -d "$(rustc --print sysroot)/lib/rustlib/$target" ]; then
        command -v rustup >/dev/null || die "the Rust standard library for $target is missing and there is no rustup to add it"
        say "adding the Rust target $target (rustup)"
        rustup target add "$target" >/dev/null || die "rustup cannot download $target; install it on a machine that can reach the Rust servers"
    fi
done

# C parts (SQLite, ring) built with each target's own compiler, linked with mingw for Windows.
export CC_x86_64_unknown_linux_musl=musl-gcc
export CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc
export AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc

build() {
    local target=$1 started
    started=$(date +%s)
    say "building velt-groups $version for $target (profile dist: LTO, one codegen unit; minutes)"
    cargo build --locked --profile dist --target "$target"
    say "built $target in $(($(date +%s) - started)) s"
}

stage_docs() { # DIR: the documents every archive holds
    install -m 644 README.md LICENSE CHANGELOG.md "$1/"
    install -m 644 samples/velt-groups.toml "$1/velt-groups.toml"
}

size_ok() { # FILE
    local bytes
    bytes=$(stat -c %s "$1")
    say "$(basename "$1"): $bytes bytes"
    [ "$bytes" -le "$max_bytes" ] || die "$1 is $bytes bytes, over the 25 MB limit"
}

tarball() { # DIR NAME: NAME.tar.gz of DIR, the same bytes for the same inputs
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
        -C "$1" -cf - "$2" | gzip -n -9 >"$out/$2.tar.gz"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- Linux: static musl binary --------------------------------------------------------------
build "$linux"
bin="$target_dir/$linux/dist/velt-groups"
name="velt-groups-$version-$linux"
dir="$work/$name"
mkdir -p "$dir/completions"
install -m 755 "$bin" "$dir/velt-groups"
size_ok "$dir/velt-groups"
# "not a dynamic executable" (glibc's ldd) or "statically linked": nothing to load at run time.
if ldd "$dir/velt-groups" 2>&1 | grep -q '=>'; then
    ldd "$dir/velt-groups" >&2
    die "the Linux binary is dynamically linked"
fi
say "ldd: $(ldd "$dir/velt-groups" 2>&1 | head -n 1 | sed 's/^[[:space:]]*//')"
"$dir/velt-groups" man >"$dir/velt-groups.1"
"$dir/velt-groups" completions bash >"$dir/completions/velt-groups.bash"
"$dir/velt-groups" completions zsh >"$dir/completions/_velt-groups"
"$dir/velt-groups" completions fish >"$dir/completions/velt-groups.fish"
"$dir/velt-groups" completions powershell >"$dir/completions/_velt-groups.ps1"
stage_docs "$dir"
tarball "$work" "$name"
say "wrote $out/$name.tar.gz"

# The archive as a user gets it: extracted elsewhere, no PATH, no home, the sample workbook
# read through the reader child (which re-executes /proc/self/exe).
say "checking the extracted Linux binary with PATH= and no home"
check="$work/check-linux"
mkdir -p "$check"
tar -xzf "$out/$name.tar.gz" -C "$check"
cp samples/employees.xlsx "$check/"
(cd "$check" && env -i PATH= HOME=/nonexistent "./$name/velt-groups" --version) >&2
(cd "$check" && env -i PATH= HOME=/nonexistent "./$name/velt-groups" check --org acme --format csv employees.xlsx \
    >"$check/groups.csv" 2>"$check/stderr") || { cat "$check/stderr" >&2; die "the Linux binary cannot check the sample"; }
groups=$(($(wc -l <"$check/groups.csv") - 1))
[ "$groups" -ge 5 ] || die "the Linux binary found $groups groups in the sample"
say "the Linux binary read $groups groups from the sample workbook"

# --- Windows: mingw-w64 cross build ---------------------------------------------------------
build "$windows"
exe="$target_dir/$windows/dist/velt-groups.exe"
name="velt-groups-$version-$windows"
dir="$work/$name"
mkdir -p "$dir"
install -m 755 "$exe" "$dir/velt-groups.exe"
size_ok "$dir/velt-groups.exe"
# Only DLLs every Windows has: no libgcc, libwinpthread or libstdc++ from mingw.
dlls=$(x86_64-w64-mingw32-objdump -p "$dir/velt-groups.exe" | sed -n 's/^[[:space:]]*DLL Name: //p' | sort -u)
say "velt-groups.exe imports: $(echo $dlls)"
if echo "$dlls" | grep -qiE '^(libgcc|libwinpthread|libstdc|libssp)'; then
    die "velt-groups.exe needs a mingw DLL"
fi
"$bin" completions powershell >"$dir/_velt-groups.ps1"
stage_docs "$dir"
# Windows' Notepad and Explorer users get CRLF text files.
for f in README.md LICENSE CHANGELOG.md velt-groups.toml; do
    sed -i 's/$/\r/' "$dir/$f"
done
find "$work/$name" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
rm -f "$out/$name.zip"
(cd "$work" && find "$name" | LC_ALL=C sort | zip -X -q -9 "$out/$name.zip" -@)
say "wrote $out/$name.zip"
wine=$(command -v wine || command -v wine64 || { [ -x /usr/lib/wine/wine64 ] && echo /usr/lib/wine/wine64; } || true)
if [ -n "$wine" ]; then
    say "checking velt-groups.exe under wine ($wine)"
    check="$work/check-windows"
    mkdir -p "$check"
    (cd "$check" && unzip -q "$out/$name.zip")
    cp samples/employees.xlsx "$check/"
    # Rust's standard library takes random bytes from bcryptprimitives.dll (Windows 10 and
    # later); wine 8 (Debian 12) has none, so the check gets a stand-in built here, beside
    # the copy under test only. The archive is not touched.
    printf '%s\n' '#include <windows.h>' \
        'BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len);' \
        '__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE p, SIZE_T n) { return n <= 0xffffffff && SystemFunction036(p, (ULONG)n); }' \
        >"$work/prng.c"
    x86_64-w64-mingw32-gcc -shared -O2 -o "$check/$name/bcryptprimitives.dll" "$work/prng.c" -ladvapi32
    (cd "$check" && WINEPREFIX="$work/wineprefix" WINEDEBUG=-all "$wine" "$name/velt-groups.exe" \
        check --org acme --format csv employees.xlsx >"$check/groups.csv" 2>"$check/stderr") \
        || { cat "$check/stderr" >&2; die "velt-groups.exe cannot check the sample under wine"; }
    groups=$(($(grep -c . "$check/groups.csv") - 1))
    [ "$groups" -ge 5 ] || die "velt-groups.exe found $groups groups in the sample"
    say "velt-groups.exe read $groups groups from the sample workbook under wine"
else
    say "wine is not installed: velt-groups.exe was built and inspected, not run"
fi

# --- checksums ------------------------------------------------------------------------------
(cd "$out" && sha256sum -- *"-$version-"*.tar.gz *"-$version-"*.zip >SHA256SUMS)
say "wrote $out/SHA256SUMS:"
cat "$out/SHA256SUMS" >&2
