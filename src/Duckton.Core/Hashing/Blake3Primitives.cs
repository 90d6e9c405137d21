using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Duckton.Core.Hashing;

/// <summary>Eight 32-bit words: a chaining value or a key.</summary>
[InlineArray(8)]
internal struct Words8
{
    private uint _element0;
}

/// <summary>Sixteen 32-bit words: a message block or a full compression output.</summary>
[InlineArray(16)]
internal struct Words16
{
    private uint _element0;
}

/// <summary>Constants of the BLAKE3 specification (section 2).</summary>
internal static class Blake3Spec
{
    public const int BlockLen = 64;
    public const int ChunkLen = 1024;
    public const int OutLen = 32;
    public const int KeyLen = 32;

    /// <summary>2^54 chunks of 1 KiB cover 2^64 bytes, the most input a 64-bit counter can address.</summary>
    public const int MaxDepth = 54;

    public const uint ChunkStart = 1 << 0;
    public const uint ChunkEnd = 1 << 1;
    public const uint Parent = 1 << 2;
    public const uint Root = 1 << 3;
    public const uint KeyedHash = 1 << 4;
    public const uint DeriveKeyContext = 1 << 5;
    public const uint DeriveKeyMaterial = 1 << 6;

    // The SHA-256 initial hash values, which BLAKE3 reuses as its IV.
    public const uint IV0 = 0x6A09E667;
    public const uint IV1 = 0xBB67AE85;
    public const uint IV2 = 0x3C6EF372;
    public const uint IV3 = 0xA54FF53A;
    public const uint IV4 = 0x510E527F;
    public const uint IV5 = 0x9B05688C;
    public const uint IV6 = 0x1F83D9AB;
    public const uint IV7 = 0x5BE0CD19;

    public static Words8 IV
    {
        get
        {
            Words8 iv = default;
            iv[0] = IV0;
            iv[1] = IV1;
            iv[2] = IV2;
            iv[3] = IV3;
            iv[4] = IV4;
            iv[5] = IV5;
            iv[6] = IV6;
            iv[7] = IV7;
            return iv;
        }
    }

    public static Words8 KeyWords(ReadOnlySpan<byte> key)
    {
        if (key.Length != KeyLen)
        {
            throw new ArgumentException($"a BLAKE3 key is {KeyLen} bytes, got {key.Length}", nameof(key));
        }
        Words8 words = default;
        for (var i = 0; i < 8; i++)
        {
            words[i] = BinaryPrimitives.ReadUInt32LittleEndian(key[(4 * i)..]);
        }
        return words;
    }

    public static void WriteWords(ReadOnlySpan<uint> words, Span<byte> destination)
    {
        for (var i = 0; i < words.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[(4 * i)..], words[i]);
        }
    }
}

/// <summary>
/// One BLAKE3 round function written once for every lane width: <typeparamref name="T"/> is a single
/// <see cref="uint"/> (scalar) or a vector whose lanes each carry an independent compression.
/// </summary>
/// <remarks>
/// The type parameters are structs, so the JIT (and NativeAOT) compiles one specialised copy per width
/// with every static abstract call inlined: no virtual dispatch, no reflection.
/// </remarks>
internal interface ILaneOps<T>
    where T : struct
{
    static abstract T Add(T a, T b);
    static abstract T Xor(T a, T b);
    static abstract T RotateRight16(T x);
    static abstract T RotateRight12(T x);
    static abstract T RotateRight8(T x);
    static abstract T RotateRight7(T x);
    static abstract T Broadcast(uint x);
}

internal readonly struct ScalarOps : ILaneOps<uint>
{
    public static uint Add(uint a, uint b) => a + b;
    public static uint Xor(uint a, uint b) => a ^ b;
    public static uint RotateRight16(uint x) => BitOperations.RotateRight(x, 16);
    public static uint RotateRight12(uint x) => BitOperations.RotateRight(x, 12);
    public static uint RotateRight8(uint x) => BitOperations.RotateRight(x, 8);
    public static uint RotateRight7(uint x) => BitOperations.RotateRight(x, 7);
    public static uint Broadcast(uint x) => x;
}

/// <summary>The seven rounds of the compression function, generic over the lane type.</summary>
internal static class Blake3Rounds
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void G<TOps, T>(ref T a, ref T b, ref T c, ref T d, T mx, T my)
        where TOps : struct, ILaneOps<T>
        where T : struct
    {
        a = TOps.Add(TOps.Add(a, b), mx);
        d = TOps.RotateRight16(TOps.Xor(d, a));
        c = TOps.Add(c, d);
        b = TOps.RotateRight12(TOps.Xor(b, c));
        a = TOps.Add(TOps.Add(a, b), my);
        d = TOps.RotateRight8(TOps.Xor(d, a));
        c = TOps.Add(c, d);
        b = TOps.RotateRight7(TOps.Xor(b, c));
    }

    /// <summary>One round: G on the four columns, then on the four diagonals, with message words m[s0..s15].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Round<TOps, T>(
        ref T v0, ref T v1, ref T v2, ref T v3, ref T v4, ref T v5, ref T v6, ref T v7,
        ref T v8, ref T v9, ref T v10, ref T v11, ref T v12, ref T v13, ref T v14, ref T v15,
        ref T m, int s0, int s1, int s2, int s3, int s4, int s5, int s6, int s7,
        int s8, int s9, int s10, int s11, int s12, int s13, int s14, int s15)
        where TOps : struct, ILaneOps<T>
        where T : struct
    {
        G<TOps, T>(ref v0, ref v4, ref v8, ref v12, Unsafe.Add(ref m, s0), Unsafe.Add(ref m, s1));
        G<TOps, T>(ref v1, ref v5, ref v9, ref v13, Unsafe.Add(ref m, s2), Unsafe.Add(ref m, s3));
        G<TOps, T>(ref v2, ref v6, ref v10, ref v14, Unsafe.Add(ref m, s4), Unsafe.Add(ref m, s5));
        G<TOps, T>(ref v3, ref v7, ref v11, ref v15, Unsafe.Add(ref m, s6), Unsafe.Add(ref m, s7));
        G<TOps, T>(ref v0, ref v5, ref v10, ref v15, Unsafe.Add(ref m, s8), Unsafe.Add(ref m, s9));
        G<TOps, T>(ref v1, ref v6, ref v11, ref v12, Unsafe.Add(ref m, s10), Unsafe.Add(ref m, s11));
        G<TOps, T>(ref v2, ref v7, ref v8, ref v13, Unsafe.Add(ref m, s12), Unsafe.Add(ref m, s13));
        G<TOps, T>(ref v3, ref v4, ref v9, ref v14, Unsafe.Add(ref m, s14), Unsafe.Add(ref m, s15));
    }

    /// <summary>
    /// Runs the 7 rounds over the state v0..v15 with the 16 message words at <paramref name="m"/>.
    /// </summary>
    /// <remarks>
    /// Instead of permuting the message between rounds (spec §2.2) each round reads it through the
    /// permutation applied r times: row r of the schedule is row r-1 indexed by
    /// [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8].
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Permute<TOps, T>(
        ref T v0, ref T v1, ref T v2, ref T v3, ref T v4, ref T v5, ref T v6, ref T v7,
        ref T v8, ref T v9, ref T v10, ref T v11, ref T v12, ref T v13, ref T v14, ref T v15, ref T m)
        where TOps : struct, ILaneOps<T>
        where T : struct
    {
        Round<TOps, T>(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7, ref v8, ref v9, ref v10, ref v11, ref v12, ref v13, ref v14, ref v15,
            ref m, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        Round<TOps, T>(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7, ref v8, ref v9, ref v10, ref v11, ref v12, ref v13, ref v14, ref v15,
            ref m, 2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8);
        Round<TOps, T>(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7, ref v8, ref v9, ref v10, ref v11, ref v12, ref v13, ref v14, ref v15,
            ref m, 3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1);
        Round<TOps, T>(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7, ref v8, ref v9, ref v10, ref v11, ref v12, ref v13, ref v14, ref v15,
            ref m, 10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6);
        Round<TOps, T>(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7, ref v8, ref v9, ref v10, ref v11, ref v12, ref v13, ref v14, ref v15,
            ref m, 12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4);
        Round<TOps, T>(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7, ref v8, ref v9, ref v10, ref v11, ref v12, ref v13, ref v14, ref v15,
            ref m, 9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7);
        Round<TOps, T>(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7, ref v8, ref v9, ref v10, ref v11, ref v12, ref v13, ref v14, ref v15,
            ref m, 11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13);
    }

    /// <summary>
    /// Compresses one block per lane and leaves the new chaining values (the first 8 output words) in
    /// <paramref name="h"/> (8 consecutive <typeparamref name="T"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CompressCv<TOps, T>(ref T h, ref T m, T counterLow, T counterHigh, T blockLen, T flags)
        where TOps : struct, ILaneOps<T>
        where T : struct
    {
        T v0 = h, v1 = Unsafe.Add(ref h, 1), v2 = Unsafe.Add(ref h, 2), v3 = Unsafe.Add(ref h, 3);
        T v4 = Unsafe.Add(ref h, 4), v5 = Unsafe.Add(ref h, 5), v6 = Unsafe.Add(ref h, 6), v7 = Unsafe.Add(ref h, 7);
        T v8 = TOps.Broadcast(Blake3Spec.IV0), v9 = TOps.Broadcast(Blake3Spec.IV1);
        T v10 = TOps.Broadcast(Blake3Spec.IV2), v11 = TOps.Broadcast(Blake3Spec.IV3);
        T v12 = counterLow, v13 = counterHigh, v14 = blockLen, v15 = flags;
        Permute<TOps, T>(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7, ref v8, ref v9, ref v10, ref v11, ref v12, ref v13, ref v14, ref v15, ref m);
        h = TOps.Xor(v0, v8);
        Unsafe.Add(ref h, 1) = TOps.Xor(v1, v9);
        Unsafe.Add(ref h, 2) = TOps.Xor(v2, v10);
        Unsafe.Add(ref h, 3) = TOps.Xor(v3, v11);
        Unsafe.Add(ref h, 4) = TOps.Xor(v4, v12);
        Unsafe.Add(ref h, 5) = TOps.Xor(v5, v13);
        Unsafe.Add(ref h, 6) = TOps.Xor(v6, v14);
        Unsafe.Add(ref h, 7) = TOps.Xor(v7, v15);
    }
}

/// <summary>Single-block scalar compression: used for partial chunks, parents on the stack, and output blocks.</summary>
internal static class Blake3Scalar
{
    /// <summary>Compresses <paramref name="block"/> into <paramref name="cv"/> in place (the chaining-value output).</summary>
    public static void Compress(ref Words8 cv, ref readonly Words16 block, ulong counter, uint blockLen, uint flags)
    {
        Words16 m = block;
        Blake3Rounds.CompressCv<ScalarOps, uint>(ref cv[0], ref m[0], (uint)counter, (uint)(counter >> 32), blockLen, flags);
    }

    /// <summary>The full 16-word output of one compression (for the root's extended output).</summary>
    public static void CompressXof(ref readonly Words8 cv, ref readonly Words16 block, ulong counter, uint blockLen, uint flags, out Words16 output)
    {
        Words16 m = block;
        uint v0 = cv[0], v1 = cv[1], v2 = cv[2], v3 = cv[3], v4 = cv[4], v5 = cv[5], v6 = cv[6], v7 = cv[7];
        uint v8 = Blake3Spec.IV0, v9 = Blake3Spec.IV1, v10 = Blake3Spec.IV2, v11 = Blake3Spec.IV3;
        uint v12 = (uint)counter, v13 = (uint)(counter >> 32), v14 = blockLen, v15 = flags;
        Blake3Rounds.Permute<ScalarOps, uint>(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7, ref v8, ref v9, ref v10, ref v11, ref v12, ref v13, ref v14, ref v15, ref m[0]);
        output = default;
        output[0] = v0 ^ v8;
        output[1] = v1 ^ v9;
        output[2] = v2 ^ v10;
        output[3] = v3 ^ v11;
        output[4] = v4 ^ v12;
        output[5] = v5 ^ v13;
        output[6] = v6 ^ v14;
        output[7] = v7 ^ v15;
        output[8] = v8 ^ cv[0];
        output[9] = v9 ^ cv[1];
        output[10] = v10 ^ cv[2];
        output[11] = v11 ^ cv[3];
        output[12] = v12 ^ cv[4];
        output[13] = v13 ^ cv[5];
        output[14] = v14 ^ cv[6];
        output[15] = v15 ^ cv[7];
    }

    /// <summary>Reads a block of up to 64 bytes as little-endian words, zero-padding the tail.</summary>
    public static void LoadBlock(ReadOnlySpan<byte> bytes, out Words16 block)
    {
        block = default;
        if (bytes.Length == Blake3Spec.BlockLen && BitConverter.IsLittleEndian)
        {
            block = Unsafe.ReadUnaligned<Words16>(ref Unsafe.AsRef(in bytes[0]));
            return;
        }
        Span<byte> padded = stackalloc byte[Blake3Spec.BlockLen];
        padded.Clear();
        bytes.CopyTo(padded);
        for (var i = 0; i < 16; i++)
        {
            block[i] = BinaryPrimitives.ReadUInt32LittleEndian(padded[(4 * i)..]);
        }
    }
}
