using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Duckton.Core.Hashing;

/// <summary>
/// A lane width for the many-inputs-at-once kernels: the vector arithmetic plus loading one 64-byte
/// block from each lane's input and transposing it so that message word j of every lane sits in one vector.
/// </summary>
internal unsafe interface ILaneKernel<T>
    where T : unmanaged
{
    static abstract int Lanes { get; }

    static abstract T Broadcast(uint x);

    /// <summary>One compression per lane (see <see cref="Blake3Rounds"/>).</summary>
    static abstract void Compress(ref T h, ref T m, T counterLow, T counterHigh, T blockLen, T flags);

    /// <summary>
    /// msg[j] = word j of the 64 bytes at <c>blocks[lane]</c> ANDed with the 64 bytes at <c>masks[lane]</c>
    /// (all-ones for a full block; a 0xFF..00 window zero-pads a short block read in place).
    /// </summary>
    static abstract void LoadTransposed(byte** blocks, byte** masks, T* msg);

    /// <summary>
    /// <see cref="LoadTransposed"/> for blocks of at most 32 bytes: words 8-15 are zero and only the first
    /// halves are read (narrow rows).
    /// </summary>
    static abstract void LoadTransposedLow(byte** blocks, byte** masks, T* msg);

    static abstract T Load(uint* lanes);

    /// <summary>Writes lane l's chaining value (h[0..7] lane l) as 32 bytes to <c>outputs[l]</c>, for l &lt; n.</summary>
    static abstract void StoreTransposed(T* h, byte** outputs, int n);

    /// <summary>Lane-wise <c>mask ? a : b</c> where mask lanes are all-ones or zero.</summary>
    static abstract T Select(T mask, T a, T b);
}

/// <summary>4 lanes in a <see cref="Vector128{T}"/>: SSE2/SSSE3 on x64, AdvSIMD on Arm64.</summary>
internal readonly unsafe struct Lanes4 : ILaneKernel<Vector128<uint>>
{
    public static int Lanes => 4;
    public static Vector128<uint> Broadcast(uint x) => Vector128.Create(x);

    public static void Compress(ref Vector128<uint> h, ref Vector128<uint> m, Vector128<uint> counterLow, Vector128<uint> counterHigh, Vector128<uint> blockLen, Vector128<uint> flags) =>
        Blake3Rounds.V128.Compress(ref h, ref m, counterLow, counterHigh, blockLen, flags);

    public static Vector128<uint> Load(uint* lanes) => Vector128.Load(lanes);
    public static Vector128<uint> Select(Vector128<uint> mask, Vector128<uint> a, Vector128<uint> b) => Vector128.ConditionalSelect(mask, a, b);

    [SkipLocalsInit] // every stack buffer is written before it is read
    public static void StoreTransposed(Vector128<uint>* h, byte** outputs, int n)
    {
        var rows = stackalloc Vector128<uint>[4];
        for (var half = 0; half < 2; half++)
        {
            var a = h[(4 * half) + 0];
            var b = h[(4 * half) + 1];
            var c = h[(4 * half) + 2];
            var d = h[(4 * half) + 3];
            Transpose4(ref a, ref b, ref c, ref d);
            rows[0] = a;
            rows[1] = b;
            rows[2] = c;
            rows[3] = d;
            for (var l = 0; l < n; l++)
            {
                rows[l].Store((uint*)(outputs[l] + (16 * half)));
            }
        }
    }

    public static void LoadTransposed(byte** blocks, byte** masks, Vector128<uint>* msg) => LoadQuarters(blocks, masks, msg, 4);

    public static void LoadTransposedLow(byte** blocks, byte** masks, Vector128<uint>* msg)
    {
        LoadQuarters(blocks, masks, msg, 2);
        for (var j = 8; j < 16; j++)
        {
            msg[j] = Vector128<uint>.Zero;
        }
    }

    private static void LoadQuarters(byte** blocks, byte** masks, Vector128<uint>* msg, int quarters)
    {
        for (var q = 0; q < quarters; q++)
        {
            var o = 16 * q;
            var a = Vector128.Load((uint*)(blocks[0] + o)) & Vector128.Load((uint*)(masks[0] + o));
            var b = Vector128.Load((uint*)(blocks[1] + o)) & Vector128.Load((uint*)(masks[1] + o));
            var c = Vector128.Load((uint*)(blocks[2] + o)) & Vector128.Load((uint*)(masks[2] + o));
            var d = Vector128.Load((uint*)(blocks[3] + o)) & Vector128.Load((uint*)(masks[3] + o));
            Transpose4(ref a, ref b, ref c, ref d);
            msg[(4 * q) + 0] = a;
            msg[(4 * q) + 1] = b;
            msg[(4 * q) + 2] = c;
            msg[(4 * q) + 3] = d;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4(ref Vector128<uint> a, ref Vector128<uint> b, ref Vector128<uint> c, ref Vector128<uint> d)
    {
        if (Sse2.IsSupported)
        {
            var ab0 = Sse2.UnpackLow(a, b);   // a0 b0 a1 b1
            var ab1 = Sse2.UnpackHigh(a, b);  // a2 b2 a3 b3
            var cd0 = Sse2.UnpackLow(c, d);
            var cd1 = Sse2.UnpackHigh(c, d);
            a = Sse2.UnpackLow(ab0.AsUInt64(), cd0.AsUInt64()).AsUInt32();
            b = Sse2.UnpackHigh(ab0.AsUInt64(), cd0.AsUInt64()).AsUInt32();
            c = Sse2.UnpackLow(ab1.AsUInt64(), cd1.AsUInt64()).AsUInt32();
            d = Sse2.UnpackHigh(ab1.AsUInt64(), cd1.AsUInt64()).AsUInt32();
            return;
        }
        var (ta, tb, tc, td) = (a, b, c, d);
        a = Vector128.Create(ta[0], tb[0], tc[0], td[0]);
        b = Vector128.Create(ta[1], tb[1], tc[1], td[1]);
        c = Vector128.Create(ta[2], tb[2], tc[2], td[2]);
        d = Vector128.Create(ta[3], tb[3], tc[3], td[3]);
    }
}

/// <summary>8 lanes in a <see cref="Vector256{T}"/>; only used when AVX2 is supported.</summary>
internal readonly unsafe struct Lanes8 : ILaneKernel<Vector256<uint>>
{
    public static int Lanes => 8;
    public static Vector256<uint> Broadcast(uint x) => Vector256.Create(x);

    public static void Compress(ref Vector256<uint> h, ref Vector256<uint> m, Vector256<uint> counterLow, Vector256<uint> counterHigh, Vector256<uint> blockLen, Vector256<uint> flags) =>
        Blake3Rounds.V256.Compress(ref h, ref m, counterLow, counterHigh, blockLen, flags);

    public static Vector256<uint> Load(uint* lanes) => Vector256.Load(lanes);
    public static Vector256<uint> Select(Vector256<uint> mask, Vector256<uint> a, Vector256<uint> b) => Avx2.BlendVariable(b, a, mask);

    public static void LoadTransposed(byte** blocks, byte** masks, Vector256<uint>* msg) => LoadHalves(blocks, masks, msg, 2);

    public static void LoadTransposedLow(byte** blocks, byte** masks, Vector256<uint>* msg)
    {
        LoadHalves(blocks, masks, msg, 1);
        for (var j = 8; j < 16; j++)
        {
            msg[j] = Vector256<uint>.Zero;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadHalves(byte** blocks, byte** masks, Vector256<uint>* msg, int halves)
    {
        for (var half = 0; half < halves; half++)
        {
            var o = 32 * half;
            var w = msg + (8 * half);
            w[0] = Vector256.Load((uint*)(blocks[0] + o)) & Vector256.Load((uint*)(masks[0] + o));
            w[1] = Vector256.Load((uint*)(blocks[1] + o)) & Vector256.Load((uint*)(masks[1] + o));
            w[2] = Vector256.Load((uint*)(blocks[2] + o)) & Vector256.Load((uint*)(masks[2] + o));
            w[3] = Vector256.Load((uint*)(blocks[3] + o)) & Vector256.Load((uint*)(masks[3] + o));
            w[4] = Vector256.Load((uint*)(blocks[4] + o)) & Vector256.Load((uint*)(masks[4] + o));
            w[5] = Vector256.Load((uint*)(blocks[5] + o)) & Vector256.Load((uint*)(masks[5] + o));
            w[6] = Vector256.Load((uint*)(blocks[6] + o)) & Vector256.Load((uint*)(masks[6] + o));
            w[7] = Vector256.Load((uint*)(blocks[7] + o)) & Vector256.Load((uint*)(masks[7] + o));
            Transpose8(w);
        }
    }

    [SkipLocalsInit] // every stack buffer is written before it is read
    public static void StoreTransposed(Vector256<uint>* h, byte** outputs, int n)
    {
        var rows = stackalloc Vector256<uint>[8];
        for (var j = 0; j < 8; j++)
        {
            rows[j] = h[j];
        }
        Transpose8(rows);
        for (var l = 0; l < n; l++)
        {
            rows[l].Store((uint*)outputs[l]);
        }
    }

    /// <summary>In-place 8x8 transpose of 32-bit words: r[j] word i becomes r[i] word j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose8(Vector256<uint>* r)
    {
        // Transpose each 4x4 quarter inside the 128-bit halves...
        var t0 = Avx2.UnpackLow(r[0], r[1]);
        var t1 = Avx2.UnpackHigh(r[0], r[1]);
        var t2 = Avx2.UnpackLow(r[2], r[3]);
        var t3 = Avx2.UnpackHigh(r[2], r[3]);
        var t4 = Avx2.UnpackLow(r[4], r[5]);
        var t5 = Avx2.UnpackHigh(r[4], r[5]);
        var t6 = Avx2.UnpackLow(r[6], r[7]);
        var t7 = Avx2.UnpackHigh(r[6], r[7]);
        var u0 = Avx2.UnpackLow(t0.AsUInt64(), t2.AsUInt64()).AsUInt32();  // words 0 | 4 of rows 0-3
        var u1 = Avx2.UnpackHigh(t0.AsUInt64(), t2.AsUInt64()).AsUInt32(); // words 1 | 5
        var u2 = Avx2.UnpackLow(t1.AsUInt64(), t3.AsUInt64()).AsUInt32();  // words 2 | 6
        var u3 = Avx2.UnpackHigh(t1.AsUInt64(), t3.AsUInt64()).AsUInt32(); // words 3 | 7
        var u4 = Avx2.UnpackLow(t4.AsUInt64(), t6.AsUInt64()).AsUInt32();  // same for rows 4-7
        var u5 = Avx2.UnpackHigh(t4.AsUInt64(), t6.AsUInt64()).AsUInt32();
        var u6 = Avx2.UnpackLow(t5.AsUInt64(), t7.AsUInt64()).AsUInt32();
        var u7 = Avx2.UnpackHigh(t5.AsUInt64(), t7.AsUInt64()).AsUInt32();

        // ...then pair the low halves (words 0-3) and the high halves (words 4-7) of rows 0-3 and 4-7.
        r[0] = Avx2.Permute2x128(u0, u4, 0x20);
        r[1] = Avx2.Permute2x128(u1, u5, 0x20);
        r[2] = Avx2.Permute2x128(u2, u6, 0x20);
        r[3] = Avx2.Permute2x128(u3, u7, 0x20);
        r[4] = Avx2.Permute2x128(u0, u4, 0x31);
        r[5] = Avx2.Permute2x128(u1, u5, 0x31);
        r[6] = Avx2.Permute2x128(u2, u6, 0x31);
        r[7] = Avx2.Permute2x128(u3, u7, 0x31);
    }
}

/// <summary>16 lanes in a <see cref="Vector512{T}"/>; only used when AVX-512F is supported (native rotates).</summary>
internal readonly unsafe struct Lanes16 : ILaneKernel<Vector512<uint>>
{
    public static int Lanes => 16;
    public static Vector512<uint> Broadcast(uint x) => Vector512.Create(x);

    public static void Compress(ref Vector512<uint> h, ref Vector512<uint> m, Vector512<uint> counterLow, Vector512<uint> counterHigh, Vector512<uint> blockLen, Vector512<uint> flags) =>
        Blake3Rounds.V512.Compress(ref h, ref m, counterLow, counterHigh, blockLen, flags);

    public static Vector512<uint> Load(uint* lanes) => Vector512.Load(lanes);
    public static Vector512<uint> Select(Vector512<uint> mask, Vector512<uint> a, Vector512<uint> b) => Vector512.ConditionalSelect(mask, a, b);

    [SkipLocalsInit] // every stack buffer is written before it is read
    public static void StoreTransposed(Vector512<uint>* h, byte** outputs, int n)
    {
        // Two 8x8 transposes: lanes 0-7 from the low 256 bits of each word vector, lanes 8-15 from the high.
        var rows = stackalloc Vector256<uint>[8];
        for (var half = 0; half < 2; half++)
        {
            for (var j = 0; j < 8; j++)
            {
                rows[j] = half == 0 ? h[j].GetLower() : h[j].GetUpper();
            }
            Lanes8.Transpose8(rows);
            var lanes = Math.Min(8, n - (8 * half));
            for (var l = 0; l < lanes; l++)
            {
                rows[l].Store((uint*)outputs[(8 * half) + l]);
            }
        }
    }

    [SkipLocalsInit] // every stack buffer is written before it is read
    // The 16-lane transpose works on whole 64-byte rows; short rows are masked to zero all the same.
    public static void LoadTransposedLow(byte** blocks, byte** masks, Vector512<uint>* msg) => LoadTransposed(blocks, masks, msg);

    public static void LoadTransposed(byte** blocks, byte** masks, Vector512<uint>* msg)
    {
        // Stage 1: within each group of four rows, a 4x4 transpose inside every 128-bit quarter.
        // u[4g + k] then holds, in quarter q, word 4q + k of rows 4g..4g+3.
        var u = stackalloc Vector512<uint>[16];
        for (var g = 0; g < 4; g++)
        {
            var a = Vector512.Load((uint*)blocks[(4 * g) + 0]) & Vector512.Load((uint*)masks[(4 * g) + 0]);
            var b = Vector512.Load((uint*)blocks[(4 * g) + 1]) & Vector512.Load((uint*)masks[(4 * g) + 1]);
            var c = Vector512.Load((uint*)blocks[(4 * g) + 2]) & Vector512.Load((uint*)masks[(4 * g) + 2]);
            var d = Vector512.Load((uint*)blocks[(4 * g) + 3]) & Vector512.Load((uint*)masks[(4 * g) + 3]);
            var t0 = Avx512F.UnpackLow(a, b);
            var t1 = Avx512F.UnpackHigh(a, b);
            var t2 = Avx512F.UnpackLow(c, d);
            var t3 = Avx512F.UnpackHigh(c, d);
            u[(4 * g) + 0] = Avx512F.UnpackLow(t0.AsUInt64(), t2.AsUInt64()).AsUInt32();
            u[(4 * g) + 1] = Avx512F.UnpackHigh(t0.AsUInt64(), t2.AsUInt64()).AsUInt32();
            u[(4 * g) + 2] = Avx512F.UnpackLow(t1.AsUInt64(), t3.AsUInt64()).AsUInt32();
            u[(4 * g) + 3] = Avx512F.UnpackHigh(t1.AsUInt64(), t3.AsUInt64()).AsUInt32();
        }

        // Stage 2: for each k, a 4x4 transpose of 128-bit quarters across the four groups.
        for (var k = 0; k < 4; k++)
        {
            var g0 = u[k];
            var g1 = u[4 + k];
            var g2 = u[8 + k];
            var g3 = u[12 + k];
            var x0 = Avx512F.Shuffle4x128(g0, g1, 0x44); // g0.q0 g0.q1 g1.q0 g1.q1
            var x1 = Avx512F.Shuffle4x128(g0, g1, 0xEE); // g0.q2 g0.q3 g1.q2 g1.q3
            var x2 = Avx512F.Shuffle4x128(g2, g3, 0x44);
            var x3 = Avx512F.Shuffle4x128(g2, g3, 0xEE);
            msg[k] = Avx512F.Shuffle4x128(x0, x2, 0x88);      // quarter 0 of every group: word k
            msg[4 + k] = Avx512F.Shuffle4x128(x0, x2, 0xDD);  // quarter 1: word 4 + k
            msg[8 + k] = Avx512F.Shuffle4x128(x1, x3, 0x88);  // quarter 2: word 8 + k
            msg[12 + k] = Avx512F.Shuffle4x128(x1, x3, 0xDD); // quarter 3: word 12 + k
        }
    }
}

/// <summary>
/// The lanes-parallel BLAKE3 kernels: many independent compressions at once, one per vector lane,
/// with the message transposed as in the reference implementation's <c>hash_many</c>.
/// </summary>
internal static unsafe class Blake3Lanes
{
    /// <summary>The widest kernel this machine runs: 16 (AVX-512F), 8 (AVX2), 4 (128-bit SIMD) or 1 (scalar).</summary>
    public static int HardwareLanes { get; } =
        !BitConverter.IsLittleEndian ? 1
        : Avx512F.IsSupported && Avx2.IsSupported ? 16
        : Avx2.IsSupported ? 8
        : Vector128.IsHardwareAccelerated ? 4
        : 1;

    /// <summary>Clamps a requested lane limit (tests force narrower kernels) to what the hardware has.</summary>
    public static int Clamp(int maxLanes) => Math.Min(maxLanes <= 0 ? HardwareLanes : maxLanes, HardwareLanes);

    /// <summary>
    /// Hashes <paramref name="count"/> inputs of <paramref name="blocks"/> whole blocks each, input i at
    /// <c>input + i * stride</c>, writing each final chaining value (32 bytes) to <c>output + 32 i</c>.
    /// Chunks: blocks = 16, counters counter + i, CHUNK_START/CHUNK_END on the first/last block.
    /// Parents: blocks = 1, counter 0 for all, flags include PARENT.
    /// </summary>
    [SkipLocalsInit] // every stack buffer is written before it is read
    public static void HashMany(byte* input, nint stride, int blocks, int count, ulong counter, bool incrementCounter,
        ref readonly Words8 key, uint flags, uint flagsStart, uint flagsEnd, byte* output, int maxLanes)
    {
        var lanes = Clamp(maxLanes);
        var pointers = stackalloc byte*[16];
        while (count > 0)
        {
            int width = lanes >= 16 && count > 8 ? 16
                : lanes >= 8 && count > 4 ? 8
                : lanes >= 4 && count > 1 ? 4
                : 1;
            var n = Math.Min(width, count);
            for (var l = 0; l < width; l++)
            {
                // Spare lanes recompute input 0; their results are discarded.
                pointers[l] = input + ((l < n ? l : 0) * stride);
            }
            switch (width)
            {
                case 16:
                    HashGroup<Lanes16, Vector512<uint>>(pointers, n, blocks, counter, incrementCounter, in key, flags, flagsStart, flagsEnd, output);
                    break;
                case 8:
                    HashGroup<Lanes8, Vector256<uint>>(pointers, n, blocks, counter, incrementCounter, in key, flags, flagsStart, flagsEnd, output);
                    break;
                case 4:
                    HashGroup<Lanes4, Vector128<uint>>(pointers, n, blocks, counter, incrementCounter, in key, flags, flagsStart, flagsEnd, output);
                    break;
                default:
                    HashOneScalar(input, blocks, counter, in key, flags, flagsStart, flagsEnd, output);
                    break;
            }
            input += n * stride;
            output += n * Blake3Spec.OutLen;
            count -= n;
            if (incrementCounter)
            {
                counter += (ulong)n;
            }
        }
    }

    private static void HashOneScalar(byte* input, int blocks, ulong counter, ref readonly Words8 key, uint flags, uint flagsStart, uint flagsEnd, byte* output)
    {
        var cv = key;
        for (var b = 0; b < blocks; b++)
        {
            var blockFlags = flags | (b == 0 ? flagsStart : 0) | (b == blocks - 1 ? flagsEnd : 0);
            Blake3Scalar.LoadBlock(new ReadOnlySpan<byte>(input + (b * Blake3Spec.BlockLen), Blake3Spec.BlockLen), out var block);
            Blake3Scalar.Compress(ref cv, in block, counter, Blake3Spec.BlockLen, blockFlags);
        }
        Blake3Spec.WriteWords(cv, new Span<byte>(output, Blake3Spec.OutLen));
    }

    [SkipLocalsInit] // every stack buffer is written before it is read
    private static void HashGroup<TK, T>(byte** inputs, int n, int blocks, ulong counter, bool incrementCounter,
        ref readonly Words8 key, uint flags, uint flagsStart, uint flagsEnd, byte* output)
        where TK : struct, ILaneKernel<T>
        where T : unmanaged
    {
        var w = TK.Lanes;
        var scratch = stackalloc uint[16];
        for (var l = 0; l < w; l++)
        {
            scratch[l] = (uint)(incrementCounter ? counter + (ulong)l : counter);
        }
        var counterLow = TK.Load(scratch);
        for (var l = 0; l < w; l++)
        {
            scratch[l] = (uint)((incrementCounter ? counter + (ulong)l : counter) >> 32);
        }
        var counterHigh = TK.Load(scratch);
        var blockLen = TK.Broadcast(Blake3Spec.BlockLen);

        var h = stackalloc T[8];
        for (var j = 0; j < 8; j++)
        {
            h[j] = TK.Broadcast(key[j]);
        }
        var msg = stackalloc T[16];
        var blockPointers = stackalloc byte*[16];
        var masks = stackalloc byte*[16];
        for (var l = 0; l < w; l++)
        {
            masks[l] = LengthMasks; // whole blocks: keep all 64 bytes
        }
        for (var b = 0; b < blocks; b++)
        {
            for (var l = 0; l < w; l++)
            {
                blockPointers[l] = inputs[l] + (b * Blake3Spec.BlockLen);
            }
            TK.LoadTransposed(blockPointers, masks, msg);
            var blockFlags = TK.Broadcast(flags | (b == 0 ? flagsStart : 0) | (b == blocks - 1 ? flagsEnd : 0));
            TK.Compress(ref h[0], ref msg[0], counterLow, counterHigh, blockLen, blockFlags);
        }
        var outputs = stackalloc byte*[16];
        for (var l = 0; l < n; l++)
        {
            outputs[l] = output + (l * Blake3Spec.OutLen);
        }
        TK.StoreTransposed(h, outputs, n);
    }

    /// <summary>
    /// Hashes independent inputs of at most one chunk each (input i is <c>data[starts[i]..starts[i]+lengths[i]]</c>)
    /// as complete BLAKE3 hashes (ROOT on the last block), up to one lane per input.
    /// Writes 32-byte digests to <c>outputs[i]</c>.
    /// </summary>
    public static void HashSmall(byte* data, int dataLength, int* starts, int* lengths, byte** outputs, int count,
        ref readonly Words8 key, uint flags, int maxLanes)
    {
        var lanes = Clamp(maxLanes);
        while (count > 0)
        {
            int width = lanes >= 16 && count > 8 ? 16
                : lanes >= 8 && count > 4 ? 8
                : lanes >= 4 && count > 1 ? 4
                : 1;
            var n = Math.Min(width, count);
            switch (width)
            {
                case 16:
                    HashSmallGroup<Lanes16, Vector512<uint>>(data, dataLength, starts, lengths, outputs, n, in key, flags);
                    break;
                case 8:
                    HashSmallGroup<Lanes8, Vector256<uint>>(data, dataLength, starts, lengths, outputs, n, in key, flags);
                    break;
                case 4:
                    HashSmallGroup<Lanes4, Vector128<uint>>(data, dataLength, starts, lengths, outputs, n, in key, flags);
                    break;
                default:
                    Blake3Core.HashSingleChunk(new ReadOnlySpan<byte>(data + starts[0], lengths[0]), in key, flags, new Span<byte>(outputs[0], Blake3Spec.OutLen));
                    break;
            }
            starts += n;
            lengths += n;
            outputs += n;
            count -= n;
        }
    }

    /// <summary>
    /// Hashes <paramref name="count"/> inputs of at most one block each, input i at
    /// <c>data[offsets[i]..offsets[i + 1]]</c> (already checked to lie inside the data), writing digest i to
    /// <c>digests + 32 i</c>: whole groups of lanes with nothing queued or sorted by length.
    /// </summary>
    public static void HashOneBlockInputs(byte* data, int dataLength, int* offsets, int count, byte* digests,
        ref readonly Words8 key, uint flags, int maxLanes)
    {
        var lanes = Clamp(maxLanes);
        var i = 0;
        if (lanes >= 16)
        {
            for (; i + 16 <= count; i += 16)
            {
                OneBlockGroup<Lanes16, Vector512<uint>>(data, dataLength, offsets + i, digests + ((nint)i * Blake3Spec.OutLen), in key, flags);
            }
        }
        if (lanes >= 8)
        {
            for (; i + 8 <= count; i += 8)
            {
                OneBlockGroup<Lanes8, Vector256<uint>>(data, dataLength, offsets + i, digests + ((nint)i * Blake3Spec.OutLen), in key, flags);
            }
        }
        if (lanes >= 4)
        {
            for (; i + 4 <= count; i += 4)
            {
                OneBlockGroup<Lanes4, Vector128<uint>>(data, dataLength, offsets + i, digests + ((nint)i * Blake3Spec.OutLen), in key, flags);
            }
        }
        for (; i < count; i++)
        {
            Blake3Core.HashSingleChunk(new ReadOnlySpan<byte>(data + offsets[i], offsets[i + 1] - offsets[i]), in key, flags,
                new Span<byte>(digests + ((nint)i * Blake3Spec.OutLen), Blake3Spec.OutLen));
        }
    }

    [SkipLocalsInit] // every stack buffer is written before it is read
    private static void OneBlockGroup<TK, T>(byte* data, int dataLength, int* offsets, byte* output, ref readonly Words8 key, uint flags)
        where TK : struct, ILaneKernel<T>
        where T : unmanaged
    {
        var w = TK.Lanes;
        var h = stackalloc T[8];
        for (var j = 0; j < 8; j++)
        {
            h[j] = TK.Broadcast(key[j]);
        }
        var msg = stackalloc T[16];
        var blockPointers = stackalloc byte*[16];
        var masks = stackalloc byte*[16];
        var outputs = stackalloc byte*[16];
        var laneLen = stackalloc uint[16];
        var staging = stackalloc byte[16 * Blake3Spec.BlockLen];
        var longest = 0;
        for (var l = 0; l < w; l++)
        {
            var start = offsets[l];
            var len = offsets[l + 1] - start;
            longest = Math.Max(longest, len);
            laneLen[l] = (uint)len;
            outputs[l] = output + (l * Blake3Spec.OutLen);
            if (start + Blake3Spec.BlockLen <= dataLength)
            {
                // 64 readable bytes: read in place; the mask zeroes whatever lies past this input.
                blockPointers[l] = data + start;
                masks[l] = LengthMasks + Blake3Spec.BlockLen - len;
            }
            else
            {
                var slot = staging + (l * Blake3Spec.BlockLen);
                Unsafe.InitBlockUnaligned(slot, 0, Blake3Spec.BlockLen);
                Unsafe.CopyBlockUnaligned(slot, data + start, (uint)len);
                blockPointers[l] = slot;
                masks[l] = LengthMasks;
            }
        }
        if (longest <= Blake3Spec.BlockLen / 2)
        {
            TK.LoadTransposedLow(blockPointers, masks, msg);
        }
        else
        {
            TK.LoadTransposed(blockPointers, masks, msg);
        }
        var zero = TK.Broadcast(0);
        TK.Compress(ref h[0], ref msg[0], zero, zero, TK.Load(laneLen), TK.Broadcast(flags | Blake3Spec.ChunkStart | Blake3Spec.ChunkEnd | Blake3Spec.Root));
        TK.StoreTransposed(h, outputs, w);
    }

    [SkipLocalsInit] // every stack buffer is written before it is read
    private static void HashSmallGroup<TK, T>(byte* data, int dataLength, int* starts, int* lengths, byte** outputs, int n,
        ref readonly Words8 key, uint flags)
        where TK : struct, ILaneKernel<T>
        where T : unmanaged
    {
        var w = TK.Lanes;
        var maxBlocks = 1;
        var sameBlocks = true;
        var firstBlocks = BlockCount(lengths[0]);
        for (var l = 0; l < n; l++)
        {
            var blocks = BlockCount(lengths[l]);
            maxBlocks = Math.Max(maxBlocks, blocks);
            sameBlocks &= blocks == firstBlocks;
        }
        sameBlocks &= n == w;

        var h = stackalloc T[8];
        var previous = stackalloc T[8];
        for (var j = 0; j < 8; j++)
        {
            h[j] = TK.Broadcast(key[j]);
        }
        var msg = stackalloc T[16];
        var blockPointers = stackalloc byte*[16];
        // Partial and past-the-end blocks are staged zero-padded; full blocks are read in place.
        var staging = stackalloc byte[16 * Blake3Spec.BlockLen];
        var laneLen = stackalloc uint[16];
        var laneFlags = stackalloc uint[16];
        var laneActive = stackalloc uint[16];
        var zero = TK.Broadcast(0);

        var masks = stackalloc byte*[16];
        if (maxBlocks == 1 && n == w)
        {
            // The common case of narrow rows: one block per lane, every lane busy. Same result as the loop below.
            for (var l = 0; l < w; l++)
            {
                var len = lengths[l];
                if (starts[l] + Blake3Spec.BlockLen <= dataLength)
                {
                    blockPointers[l] = data + starts[l];
                    masks[l] = LengthMasks + Blake3Spec.BlockLen - len;
                }
                else
                {
                    var slot = staging + (l * Blake3Spec.BlockLen);
                    Unsafe.InitBlockUnaligned(slot, 0, Blake3Spec.BlockLen);
                    Unsafe.CopyBlockUnaligned(slot, data + starts[l], (uint)len);
                    blockPointers[l] = slot;
                    masks[l] = LengthMasks;
                }
            }
            TK.LoadTransposed(blockPointers, masks, msg);
            TK.Compress(ref h[0], ref msg[0], zero, zero, TK.Load((uint*)lengths), TK.Broadcast(flags | Blake3Spec.ChunkStart | Blake3Spec.ChunkEnd | Blake3Spec.Root));
            TK.StoreTransposed(h, outputs, n);
            return;
        }
        for (var b = 0; b < maxBlocks; b++)
        {
            var offset = b * Blake3Spec.BlockLen;
            for (var l = 0; l < w; l++)
            {
                var len = l < n ? lengths[l] : 0;
                var blocks = BlockCount(len);
                var remaining = len - offset;
                laneActive[l] = b < blocks ? uint.MaxValue : 0;
                laneFlags[l] = flags | (b == 0 ? Blake3Spec.ChunkStart : 0) | (b == blocks - 1 ? Blake3Spec.ChunkEnd | Blake3Spec.Root : 0);
                var take = Math.Clamp(remaining, 0, Blake3Spec.BlockLen);
                laneLen[l] = (uint)take;
                if (take > 0 && starts[l] + offset + Blake3Spec.BlockLen <= dataLength)
                {
                    // 64 readable bytes: read in place; the mask zeroes whatever lies past this input.
                    blockPointers[l] = data + starts[l] + offset;
                    masks[l] = LengthMasks + Blake3Spec.BlockLen - take;
                }
                else
                {
                    // Near the end of the data, empty, or already finished: a zero-padded copy.
                    var slot = staging + (l * Blake3Spec.BlockLen);
                    Unsafe.InitBlockUnaligned(slot, 0, Blake3Spec.BlockLen);
                    if (take > 0)
                    {
                        Unsafe.CopyBlockUnaligned(slot, data + starts[l] + offset, (uint)take);
                    }
                    blockPointers[l] = slot;
                    masks[l] = LengthMasks;
                }
            }
            TK.LoadTransposed(blockPointers, masks, msg);
            if (!sameBlocks)
            {
                for (var j = 0; j < 8; j++)
                {
                    previous[j] = h[j];
                }
            }
            TK.Compress(ref h[0], ref msg[0], zero, zero, TK.Load(laneLen), TK.Load(laneFlags));
            if (!sameBlocks)
            {
                // Lanes whose input already ended keep their finished digest.
                var active = TK.Load(laneActive);
                for (var j = 0; j < 8; j++)
                {
                    h[j] = TK.Select(active, h[j], previous[j]);
                }
            }
        }

        TK.StoreTransposed(h, outputs, n);
    }

    /// <summary>64 bytes of 0xFF then 64 of 0x00: <c>LengthMasks + 64 - len</c> keeps the first len bytes. RVA data, never moved.</summary>
    private static byte* LengthMasks => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(LengthMaskBytes));

    private static ReadOnlySpan<byte> LengthMaskBytes =>
    [
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    /// <summary>Blocks compressed for an input of at most one chunk: the empty input still has one (empty) block.</summary>
    private static int BlockCount(int length) => length == 0 ? 1 : (length + Blake3Spec.BlockLen - 1) / Blake3Spec.BlockLen;
}
