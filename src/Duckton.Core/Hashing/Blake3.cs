using System.Runtime.CompilerServices;
using System.Text;

namespace Duckton.Core.Hashing;

/// <summary>
/// BLAKE3 (https://github.com/BLAKE3-team/BLAKE3-specs): one-shot hashing in the three modes
/// (hash, keyed hash, derive key), any output length, and batched hashing of many small inputs.
/// </summary>
/// <remarks>
/// Inputs longer than a few chunks are hashed with SIMD kernels that compress 16 (AVX-512F), 8 (AVX2)
/// or 4 (128-bit SIMD) chunks at once; <see cref="HashMany(ReadOnlySpan{byte}, ReadOnlySpan{int}, Span{byte})"/>
/// puts one small input in each lane. Everything is allocation-free except the array-returning overloads.
/// </remarks>
public static class Blake3
{
    /// <summary>Default digest length in bytes.</summary>
    public const int HashSize = Blake3Spec.OutLen;

    /// <summary>Key length of the keyed mode in bytes.</summary>
    public const int KeySize = Blake3Spec.KeyLen;

    /// <summary>Compression block length in bytes.</summary>
    public const int BlockSize = Blake3Spec.BlockLen;

    /// <summary>Chunk (leaf) length in bytes.</summary>
    public const int ChunkSize = Blake3Spec.ChunkLen;

    /// <summary>How many independent compressions the widest kernel on this machine runs at once (16, 8, 4 or 1).</summary>
    public static int ParallelLanes => Blake3Lanes.HardwareLanes;

    /// <summary>The 32-byte hash of <paramref name="input"/>.</summary>
    public static byte[] Hash(ReadOnlySpan<byte> input)
    {
        var output = new byte[HashSize];
        Hash(input, output);
        return output;
    }

    /// <summary>Fills <paramref name="output"/> (any length; 32 is the standard digest) with the hash of <paramref name="input"/>.</summary>
    public static void Hash(ReadOnlySpan<byte> input, Span<byte> output)
    {
        var iv = Blake3Spec.IV;
        HashCore(input, in iv, 0, output, 0);
    }

    /// <summary>The 32-byte keyed hash (MAC) of <paramref name="input"/> under a 32-byte <paramref name="key"/>.</summary>
    public static byte[] KeyedHash(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input)
    {
        var output = new byte[HashSize];
        KeyedHash(key, input, output);
        return output;
    }

    /// <summary>Keyed hash of any output length.</summary>
    public static void KeyedHash(ReadOnlySpan<byte> key, ReadOnlySpan<byte> input, Span<byte> output)
    {
        var keyWords = Blake3Spec.KeyWords(key);
        HashCore(input, in keyWords, Blake3Spec.KeyedHash, output, 0);
    }

    /// <summary>A 32-byte key derived from <paramref name="keyMaterial"/> under a hard-coded, globally unique <paramref name="context"/> string.</summary>
    public static byte[] DeriveKey(string context, ReadOnlySpan<byte> keyMaterial)
    {
        var output = new byte[HashSize];
        DeriveKey(context, keyMaterial, output);
        return output;
    }

    /// <summary>Derive-key mode of any output length.</summary>
    public static void DeriveKey(string context, ReadOnlySpan<byte> keyMaterial, Span<byte> output)
    {
        var contextKey = ContextKey(context);
        HashCore(keyMaterial, in contextKey, Blake3Spec.DeriveKeyMaterial, output, 0);
    }

    /// <summary>
    /// Hashes many independent inputs: input i is <c>data[offsets[i]..offsets[i + 1]]</c> and its 32-byte
    /// digest goes to <c>digests[32 i..32 i + 32]</c>. <paramref name="offsets"/> has one more entry than there are inputs.
    /// </summary>
    /// <remarks>Inputs of at most one chunk (1024 bytes) are hashed one per SIMD lane; longer ones one by one.</remarks>
    public static void HashMany(ReadOnlySpan<byte> data, ReadOnlySpan<int> offsets, Span<byte> digests)
    {
        var iv = Blake3Spec.IV;
        HashManyCore(data, offsets, digests, in iv, 0, 0);
    }

    /// <summary><see cref="HashMany(ReadOnlySpan{byte}, ReadOnlySpan{int}, Span{byte})"/> in keyed mode.</summary>
    public static void KeyedHashMany(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, ReadOnlySpan<int> offsets, Span<byte> digests)
    {
        var keyWords = Blake3Spec.KeyWords(key);
        HashManyCore(data, offsets, digests, in keyWords, Blake3Spec.KeyedHash, 0);
    }

    /// <summary><see cref="HashMany(ReadOnlySpan{byte}, ReadOnlySpan{int}, Span{byte})"/> in derive-key mode: each input is key material under <paramref name="context"/>.</summary>
    public static void DeriveKeyMany(string context, ReadOnlySpan<byte> data, ReadOnlySpan<int> offsets, Span<byte> digests)
    {
        var contextKey = ContextKey(context);
        HashManyCore(data, offsets, digests, in contextKey, Blake3Spec.DeriveKeyMaterial, 0);
    }

    /// <summary>The derive-key mode's first step: the context string hashed with DERIVE_KEY_CONTEXT, as key words.</summary>
    internal static Words8 ContextKey(string context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var bytes = Encoding.UTF8.GetBytes(context);
        return ContextKey(bytes);
    }

    /// <summary>Whether every input lies inside the data and is at most one block (64 bytes) long.</summary>
    private static bool AllOneBlock(int dataLength, ReadOnlySpan<int> offsets)
    {
        var previous = offsets[0];
        if (previous < 0)
        {
            return false;
        }
        for (var i = 1; i < offsets.Length; i++)
        {
            var next = offsets[i];
            if ((uint)(next - previous) > Blake3Spec.BlockLen || next > dataLength)
            {
                return false; // long, negative or out of range: the general path hashes or rejects it
            }
            previous = next;
        }
        return true;
    }

    internal static Words8 ContextKey(ReadOnlySpan<byte> contextUtf8)
    {
        var iv = Blake3Spec.IV;
        Span<byte> key = stackalloc byte[KeySize];
        HashCore(contextUtf8, in iv, Blake3Spec.DeriveKeyContext, key, 0);
        return Blake3Spec.KeyWords(key);
    }

    internal static void HashCore(ReadOnlySpan<byte> input, ref readonly Words8 key, uint flags, Span<byte> output, int maxLanes)
    {
        if (input.Length <= ChunkSize)
        {
            Blake3Core.HashSingleChunk(input, in key, flags, output);
            return;
        }
        var core = new Blake3Core(in key, flags, maxLanes);
        core.Update(input);
        core.Finalize(0, output);
    }

    [SkipLocalsInit] // the queues are written before they are read
    internal static unsafe void HashManyCore(ReadOnlySpan<byte> data, ReadOnlySpan<int> offsets, Span<byte> digests,
        ref readonly Words8 key, uint flags, int maxLanes)
    {
        if (offsets.IsEmpty)
        {
            if (!digests.IsEmpty)
            {
                throw new ArgumentException("no offsets: offsets needs one entry more than there are inputs", nameof(offsets));
            }
            return;
        }
        var count = offsets.Length - 1;
        if (digests.Length != count * HashSize)
        {
            throw new ArgumentException($"{count} inputs need {count * HashSize} digest bytes, got {digests.Length}", nameof(digests));
        }

        if (AllOneBlock(data.Length, offsets))
        {
            // Narrow rows: every input is one block, so whole groups go straight to the lane kernels.
            fixed (byte* dataPtr = data)
            fixed (int* offsetPtr = offsets)
            fixed (byte* digestPtr = digests)
            {
                Blake3Lanes.HashOneBlockInputs(dataPtr, data.Length, offsetPtr, count, digestPtr, in key, flags, maxLanes);
            }
            return;
        }

        // Up to 64 small inputs are queued per round of lane kernels; long ones are hashed as they come.
        const int Batch = 64;
        var starts = stackalloc int[Batch];
        var lengths = stackalloc int[Batch];
        var outputs = stackalloc byte*[Batch];
        fixed (byte* dataPtr = data)
        fixed (byte* digestPtr = digests)
        {
            var queued = 0;
            for (var i = 0; i < count; i++)
            {
                int start = offsets[i], end = offsets[i + 1];
                if (start < 0 || end < start || end > data.Length)
                {
                    throw new ArgumentOutOfRangeException(nameof(offsets), $"input {i} spans [{start}, {end}) outside data of {data.Length} bytes");
                }
                var length = end - start;
                if (length > ChunkSize)
                {
                    HashCore(data[start..end], in key, flags, digests.Slice(i * HashSize, HashSize), maxLanes);
                    continue;
                }
                starts[queued] = start;
                lengths[queued] = length;
                outputs[queued] = digestPtr + (i * HashSize);
                if (++queued == Batch)
                {
                    Blake3Lanes.HashSmall(dataPtr, data.Length, starts, lengths, outputs, queued, in key, flags, maxLanes);
                    queued = 0;
                }
            }
            if (queued > 0)
            {
                Blake3Lanes.HashSmall(dataPtr, data.Length, starts, lengths, outputs, queued, in key, flags, maxLanes);
            }
        }
    }
}
