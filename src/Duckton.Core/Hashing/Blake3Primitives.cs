using System.Buffers.Binary;
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

/// <summary>Single-block scalar compression: used for partial chunks, parents on the stack, and output blocks.</summary>
internal static class Blake3Scalar
{
    /// <summary>Compresses <paramref name="block"/> into <paramref name="cv"/> in place (the chaining-value output).</summary>
    public static void Compress(ref Words8 cv, ref readonly Words16 block, ulong counter, uint blockLen, uint flags)
    {
        Words16 m = block;
        Blake3Rounds.Scalar.Compress(ref cv[0], ref m[0], (uint)counter, (uint)(counter >> 32), blockLen, flags);
    }

    /// <summary>The full 16-word output of one compression (for the root's extended output).</summary>
    public static void CompressXof(ref readonly Words8 cv, ref readonly Words16 block, ulong counter, uint blockLen, uint flags, out Words16 output)
    {
        Words16 m = block;
        Words8 h = cv;
        output = default;
        Blake3Rounds.Scalar.CompressXof(ref h[0], ref m[0], (uint)counter, (uint)(counter >> 32), blockLen, flags, ref output[0]);
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
