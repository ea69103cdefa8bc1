#!/usr/bin/env bash
# Builds the native peer of the benchmarks into $1 (run by Maven in process-classes). Never fails the build: where
# there is no C compiler, or it fails, it says so and the native benchmarks are skipped at run time with a message.
#   libvecoptbench.so     -O3 -march=native -fno-math-errno (gcc's own choice of vector width: 256-bit on many
#                         AVX-512 parts, where gcc prefers 256)
#   libvecoptbench512.so  the same with -mprefer-vector-width=512, to compare like with like against 512-bit Java
set -u
out=${1:?usage: build.sh OUTDIR}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/vecopt_native.c
cc=${CC:-gcc}
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "[vecopt-bench] no C compiler ('$cc') found: the native peer benchmarks will be skipped"
  exit 0
fi
mkdir -p "$out"
flags=(-O3 -march=native -fno-math-errno -ffp-contract=off -fopenmp -shared -fPIC -Wall)
if ! "$cc" "${flags[@]}" -o "$out/libvecoptbench.so" "$src"; then
  echo "[vecopt-bench] '$cc' failed on $src: the native peer benchmarks will be skipped"
  rm -f "$out/libvecoptbench.so"
  exit 0
fi
"$cc" "${flags[@]}" -mprefer-vector-width=512 -o "$out/libvecoptbench512.so" "$src" 2>/dev/null \
  || rm -f "$out/libvecoptbench512.so"
echo "[vecopt-bench] native peer built with $("$cc" --version | head -1): ${flags[*]}"
exit 0
