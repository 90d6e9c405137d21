namespace Duckton.Core.Hashing;

/// <summary>
/// Incremental BLAKE3: feed input in pieces of any size with <see cref="Update"/>, then read any number of
/// output bytes from any position of the extended output with <see cref="Finalize(Span{byte})"/> /
/// <see cref="Finalize(ulong, Span{byte})"/>. Finalizing does not change the state, so more input may follow.
/// </summary>
/// <remarks>Not thread-safe. The result never depends on how the input was split.</remarks>
internal sealed class Blake3Hasher
{
    private Blake3Core _core;

    /// <summary>A hasher in the default (unkeyed) mode.</summary>
    public Blake3Hasher()
        : this(Blake3Spec.IV, 0, 0)
    {
    }

    private Blake3Hasher(Words8 key, uint flags, int maxLanes)
    {
        _core = new Blake3Core(in key, flags, maxLanes);
    }

    /// <summary>A hasher in keyed mode (a MAC) under a 32-byte <paramref name="key"/>.</summary>
    public static Blake3Hasher CreateKeyed(ReadOnlySpan<byte> key) => new(Blake3Spec.KeyWords(key), Blake3Spec.KeyedHash, 0);

    /// <summary>A hasher in derive-key mode: the input is key material, <paramref name="context"/> a hard-coded, globally unique string.</summary>
    public static Blake3Hasher CreateDeriveKey(string context) => new(Blake3.ContextKey(context), Blake3Spec.DeriveKeyMaterial, 0);

    /// <summary>For tests: a hasher whose SIMD kernels are limited to <paramref name="maxLanes"/> lanes (1 = scalar only).</summary>
    internal static Blake3Hasher CreateWithLanes(int maxLanes) => new(Blake3Spec.IV, 0, maxLanes);

    /// <summary>Total bytes fed since construction or the last <see cref="Reset"/>.</summary>
    public ulong Length { get; private set; }

    /// <summary>Adds <paramref name="input"/> to the hashed stream.</summary>
    public Blake3Hasher Update(ReadOnlySpan<byte> input)
    {
        _core.Update(input);
        Length += (ulong)input.Length;
        return this;
    }

    /// <summary>Writes the first <c>output.Length</c> bytes of the hash (32 is the standard digest; longer is the XOF).</summary>
    public void Finalize(Span<byte> output) => _core.Finalize(0, output);

    /// <summary>Writes extended output bytes starting at byte <paramref name="position"/> of the output stream (seek).</summary>
    public void Finalize(ulong position, Span<byte> output) => _core.Finalize(position, output);

    /// <summary>The standard 32-byte digest as a new array.</summary>
    public byte[] FinalizeToArray(int length = Blake3.HashSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var output = new byte[length];
        _core.Finalize(0, output);
        return output;
    }

    /// <summary>Forgets all input, keeping the mode and key.</summary>
    public void Reset()
    {
        _core.Reset();
        Length = 0;
    }
}
