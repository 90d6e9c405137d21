#!/usr/bin/env python3
"""Writes src/Duckton.Core/Hashing/Blake3Rounds.g.cs: the BLAKE3 compression function fully unrolled for
each lane width (scalar uint, Vector128, Vector256, Vector512).

Why generated: a generic round with helper calls relies on the JIT inlining ~800 tiny calls per
compression, which exceeds its inlining budget (the calls then stay calls and throughput drops 5x).
Spelling every operation as an intrinsic needs no inlining at all.

Run: python3 tools/gen_blake3_rounds.py
"""
import os

PERMUTATION = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8]
# (a, b, c, d) of the four column steps then the four diagonal steps of a round.
STEPS = [(0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
         (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14)]

# name: (lane type, broadcast(constant) -> expression)
WIDTHS = {
    "Scalar": ("uint", lambda c: c),
    "V128": ("Vector128<uint>", lambda c: f"Vector128.Create({c})"),
    "V256": ("Vector256<uint>", lambda c: f"Vector256.Create({c})"),
    "V512": ("Vector512<uint>", lambda c: f"Vector512.Create({c})"),
}


def g(width, a, b, c, d, mx, my, out):
    va, vb, vc, vd = f"v{a}", f"v{b}", f"v{c}", f"v{d}"
    out.append(f"            {va} = {va} + {vb} + Unsafe.Add(ref m, {mx});")
    emit_rot(width, vd, f"{vd} ^ {va}", 16, out)
    out.append(f"            {vc} = {vc} + {vd};")
    emit_rot(width, vb, f"{vb} ^ {vc}", 12, out)
    out.append(f"            {va} = {va} + {vb} + Unsafe.Add(ref m, {my});")
    emit_rot(width, vd, f"{vd} ^ {va}", 8, out)
    out.append(f"            {vc} = {vc} + {vd};")
    emit_rot(width, vb, f"{vb} ^ {vc}", 7, out)


def emit_rot(width, target, value, n, out):
    if width == "V128":
        out.append(f"            t = {value};")
        if n in (8, 16):
            out.append(f"            {target} = Ssse3.IsSupported ? Ssse3.Shuffle(t.AsByte(), rot{n}).AsUInt32() : (t >>> {n}) | (t << {32 - n});")
        else:
            out.append(f"            {target} = (t >>> {n}) | (t << {32 - n});")
    elif width == "V256":
        if n in (8, 16):
            out.append(f"            {target} = Avx2.Shuffle(({value}).AsByte(), rot{n}).AsUInt32();")
        else:
            out.append(f"            t = {value};")
            out.append(f"            {target} = (t >>> {n}) | (t << {32 - n});")
    elif width == "V512":
        out.append(f"            {target} = Avx512F.RotateRight({value}, {n});")
    else:
        out.append(f"            {target} = BitOperations.RotateRight({value}, {n});")


def rounds(width, out):
    s = list(range(16))
    for r in range(7):
        out.append(f"            // Round {r + 1}: message words {s}.")
        for i, (a, b, c, d) in enumerate(STEPS):
            g(width, a, b, c, d, s[2 * i], s[2 * i + 1], out)
        s = [s[PERMUTATION[i]] for i in range(16)]


def method(width, out, xof=False):
    t, bc = WIDTHS[width]
    name = "CompressXof" if xof else "Compress"
    if xof:
        out.append("        /// <summary>One compression returning all 16 output words (the root's extended output).</summary>")
        out.append(f"        public static void {name}(ref {t} h, ref {t} m, {t} counterLow, {t} counterHigh, {t} blockLen, {t} flags, ref {t} output)")
    else:
        out.append("        /// <summary>One compression per lane; the new chaining values replace the 8 words at <paramref name=\"h\"/>.</summary>")
        out.append(f"        public static void {name}(ref {t} h, ref {t} m, {t} counterLow, {t} counterHigh, {t} blockLen, {t} flags)")
    out.append("        {")
    out.append(f"            {t} v0 = h, v1 = Unsafe.Add(ref h, 1), v2 = Unsafe.Add(ref h, 2), v3 = Unsafe.Add(ref h, 3);")
    out.append(f"            {t} v4 = Unsafe.Add(ref h, 4), v5 = Unsafe.Add(ref h, 5), v6 = Unsafe.Add(ref h, 6), v7 = Unsafe.Add(ref h, 7);")
    out.append(f"            {t} v8 = {bc('Blake3Spec.IV0')}, v9 = {bc('Blake3Spec.IV1')}, v10 = {bc('Blake3Spec.IV2')}, v11 = {bc('Blake3Spec.IV3')};")
    out.append(f"            {t} v12 = counterLow, v13 = counterHigh, v14 = blockLen, v15 = flags;")
    if width in ("V128", "V256"):
        out.append(f"            {t} t;")
        vt = "Vector128" if width == "V128" else "Vector256"
        rep = 1 if width == "V128" else 2
        r16 = ", ".join(["2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13"] * rep)
        r8 = ", ".join(["1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12"] * rep)
        out.append(f"            // Rotations by 16 and 8 move whole bytes: one byte shuffle each.")
        out.append(f"            {vt}<byte> rot16 = {vt}.Create((byte){r16});")
        out.append(f"            {vt}<byte> rot8 = {vt}.Create((byte){r8});")
    rounds(width, out)
    if xof:
        for i in range(8):
            out.append(f"            Unsafe.Add(ref output, {i}) = v{i} ^ v{i + 8};")
        for i in range(8):
            out.append(f"            Unsafe.Add(ref output, {i + 8}) = v{i + 8} ^ Unsafe.Add(ref h, {i});")
    else:
        out.append("            h = v0 ^ v8;")
        for i in range(1, 8):
            out.append(f"            Unsafe.Add(ref h, {i}) = v{i} ^ v{i + 8};")
    out.append("        }")


def main():
    out = [
        "// <auto-generated> by tools/gen_blake3_rounds.py: edit the generator, not this file. </auto-generated>",
        "#pragma warning disable IDE0055, IDE0018, IDE0059",
        "using System.Numerics;",
        "using System.Runtime.CompilerServices;",
        "using System.Runtime.Intrinsics;",
        "using System.Runtime.Intrinsics.X86;",
        "",
        "namespace Duckton.Core.Hashing;",
        "",
        "/// <summary>The BLAKE3 compression function (7 rounds of G over columns then diagonals), unrolled per lane width.</summary>",
        "internal static class Blake3Rounds",
        "{",
    ]
    for width in ["Scalar", "V128", "V256", "V512"]:
        out.append(f"    public static class {width}")
        out.append("    {")
        method(width, out)
        if width == "Scalar":
            out.append("")
            method(width, out, xof=True)
        out.append("    }")
        out.append("")
    out[-1:] = ["}", ""]
    path = os.path.join(os.path.dirname(__file__), "..", "src", "Duckton.Core", "Hashing", "Blake3Rounds.g.cs")
    with open(path, "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
