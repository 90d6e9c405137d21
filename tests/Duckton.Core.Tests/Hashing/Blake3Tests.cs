using System.Text;
using System.Text.Json;
using Duckton.Core.Hashing;

namespace Duckton.Core.Tests.Hashing;

public class Blake3Tests
{
    /// <summary>Lane limits that force each kernel: scalar, 4, 8 and 16 lanes (clamped to the hardware), and "best".</summary>
    public static TheoryData<int> LaneLimits => [1, 4, 8, 16, 0];

    private static readonly Lazy<VectorFile> s_vectors = new(VectorFile.Load);

    private sealed record VectorCase(int InputLen, byte[] Hash, byte[] KeyedHash, byte[] DeriveKey);

    private sealed record VectorFile(byte[] Key, string Context, VectorCase[] Cases)
    {
        public static VectorFile Load()
        {
            var path = Path.Combine(AppContext.BaseDirectory, "TestData", "blake3", "test_vectors.json");
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = doc.RootElement;
            var cases = root.GetProperty("cases").EnumerateArray().Select(c => new VectorCase(
                c.GetProperty("input_len").GetInt32(),
                Convert.FromHexString(c.GetProperty("hash").GetString()!),
                Convert.FromHexString(c.GetProperty("keyed_hash").GetString()!),
                Convert.FromHexString(c.GetProperty("derive_key").GetString()!))).ToArray();
            return new VectorFile(Encoding.ASCII.GetBytes(root.GetProperty("key").GetString()!), root.GetProperty("context_string").GetString()!, cases);
        }
    }

    /// <summary>The vectors' input: the repeating byte sequence 0, 1, ..., 250.</summary>
    internal static byte[] PatternInput(int length)
    {
        var input = new byte[length];
        for (var i = 0; i < length; i++)
        {
            input[i] = (byte)(i % 251);
        }
        return input;
    }

    [Theory]
    [MemberData(nameof(LaneLimits))]
    public void Official_vectors_pass_in_all_modes_with_full_extended_output(int lanes)
    {
        var file = s_vectors.Value;
        Assert.True(file.Cases.Length >= 30);
        var iv = Blake3Spec.IV;
        var keyWords = Blake3Spec.KeyWords(file.Key);
        var contextKey = Blake3.ContextKey(file.Context);
        foreach (var c in file.Cases)
        {
            var input = PatternInput(c.InputLen);
            AssertMode(input, in iv, 0, c.Hash, lanes, c.InputLen, "hash");
            AssertMode(input, in keyWords, Blake3Spec.KeyedHash, c.KeyedHash, lanes, c.InputLen, "keyed_hash");
            AssertMode(input, in contextKey, Blake3Spec.DeriveKeyMaterial, c.DeriveKey, lanes, c.InputLen, "derive_key");
        }
    }

    private static void AssertMode(byte[] input, ref readonly Words8 key, uint flags, byte[] expected, int lanes, int len, string mode)
    {
        var xof = new byte[expected.Length];
        Blake3.HashCore(input, in key, flags, xof, lanes);
        Assert.True(expected.AsSpan().SequenceEqual(xof), $"{mode} len={len} lanes={lanes}");
        var digest = new byte[32];
        Blake3.HashCore(input, in key, flags, digest, lanes);
        Assert.True(expected.AsSpan(0, 32).SequenceEqual(digest), $"{mode} 32-byte len={len}");
    }

    [Fact]
    public void Public_one_shot_api_matches_vectors()
    {
        var file = s_vectors.Value;
        foreach (var c in file.Cases)
        {
            var input = PatternInput(c.InputLen);
            Assert.Equal(c.Hash[..32], Blake3.Hash(input));
            Assert.Equal(c.KeyedHash[..32], Blake3.KeyedHash(file.Key, input));
            Assert.Equal(c.DeriveKey[..32], Blake3.DeriveKey(file.Context, input));
            var xof = new byte[c.Hash.Length];
            Blake3.Hash(input, xof);
            Assert.Equal(c.Hash, xof);
            Blake3.KeyedHash(file.Key, input, xof);
            Assert.Equal(c.KeyedHash, xof);
            Blake3.DeriveKey(file.Context, input, xof);
            Assert.Equal(c.DeriveKey, xof);
        }
    }

    [Fact]
    public void Incremental_hashers_match_vectors_in_all_modes_and_seek_into_the_output()
    {
        var file = s_vectors.Value;
        foreach (var c in file.Cases)
        {
            var input = PatternInput(c.InputLen);
            var hashers = new (Blake3Hasher Hasher, byte[] Expected)[]
            {
                (new Blake3Hasher(), c.Hash),
                (Blake3Hasher.CreateKeyed(file.Key), c.KeyedHash),
                (Blake3Hasher.CreateDeriveKey(file.Context), c.DeriveKey),
            };
            foreach (var (hasher, expected) in hashers)
            {
                // Feed in uneven pieces: 1, 2, 3, ... bytes.
                var pos = 0;
                for (var step = 1; pos < input.Length; step++)
                {
                    var take = Math.Min(step * 37 % 1500 + 1, input.Length - pos);
                    hasher.Update(input.AsSpan(pos, take));
                    pos += take;
                }
                Assert.Equal(expected, hasher.FinalizeToArray(expected.Length));
                foreach (var seek in new[] { 0, 1, 31, 32, 63, 64, 65, 100 })
                {
                    var part = new byte[expected.Length - seek];
                    hasher.Finalize((ulong)seek, part);
                    Assert.Equal(expected[seek..], part);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(LaneLimits))]
    public void Incremental_updates_at_odd_split_points_equal_one_shot(int lanes)
    {
        var rng = new Random(1234 + lanes);
        foreach (var size in new[] { 0, 1, 63, 64, 65, 1023, 1024, 1025, 2048, 2049, 3073, 8193, 65536 + 17, 300_000 })
        {
            var input = new byte[size];
            rng.NextBytes(input);
            var expected = Blake3.Hash(input);
            for (var trial = 0; trial < 4; trial++)
            {
                var hasher = Blake3Hasher.CreateWithLanes(lanes);
                var pos = 0;
                while (pos < size)
                {
                    // Mix tiny, block-straddling and multi-chunk pieces.
                    var take = (trial % 4) switch
                    {
                        0 => rng.Next(1, 70),
                        1 => rng.Next(1, 5000),
                        2 => rng.Next(1000, 40000),
                        _ => 1 + (pos % 3 == 0 ? 1023 : 1),
                    };
                    take = Math.Min(take, size - pos);
                    hasher.Update(input.AsSpan(pos, take));
                    pos += take;
                }
                Assert.True(expected.AsSpan().SequenceEqual(hasher.FinalizeToArray()), $"size={size} trial={trial} lanes={lanes}");
                Assert.Equal((ulong)size, hasher.Length);
            }
        }
    }

    [Theory]
    [MemberData(nameof(LaneLimits))]
    public void HashMany_of_one_block_inputs_equals_per_input_hash(int lanes)
    {
        // Narrow rows: whole groups of inputs of 0-64 bytes take the kernels' one-block path (groups of inputs
        // of at most 32 bytes read only half blocks); the last inputs end less than a block before the end of
        // the data, so they are staged rather than read in place.
        var rng = new Random(7 + lanes);
        var lengths = Enumerable.Range(0, 1000).Select(i => i % 97 == 0 ? 0 : i < 500 ? rng.Next(1, 33) : i % 13 == 0 ? 64 : rng.Next(1, 65)).ToArray();
        var offsets = new int[lengths.Length + 1];
        for (var i = 0; i < lengths.Length; i++)
        {
            offsets[i + 1] = offsets[i] + lengths[i];
        }
        var data = new byte[offsets[^1]];
        rng.NextBytes(data);
        var contextKey = Blake3.ContextKey("duckton tests 2025 HashMany");
        var digests = new byte[lengths.Length * 32];
        Blake3.HashManyCore(data, offsets, digests, in contextKey, Blake3Spec.DeriveKeyMaterial, lanes);
        for (var i = 0; i < lengths.Length; i++)
        {
            var one = new byte[32];
            Blake3.HashCore(data.AsSpan(offsets[i], lengths[i]), in contextKey, Blake3Spec.DeriveKeyMaterial, one, 1);
            Assert.True(one.AsSpan().SequenceEqual(digests.AsSpan(i * 32, 32)), $"input {i} len {lengths[i]} lanes {lanes}");
        }
    }

    [Fact]
    public void Finalize_does_not_consume_state_and_reset_starts_over()
    {
        var hasher = new Blake3Hasher();
        hasher.Update("hello "u8);
        var first = hasher.FinalizeToArray();
        Assert.Equal(first, hasher.FinalizeToArray());
        hasher.Update("world"u8);
        Assert.Equal(Blake3.Hash("hello world"u8), hasher.FinalizeToArray());
        hasher.Reset();
        Assert.Equal(Blake3.Hash([]), hasher.FinalizeToArray());
    }

    [Fact]
    public void Keys_of_the_wrong_length_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => Blake3.KeyedHash(new byte[31], []));
        Assert.Throws<ArgumentException>(() => Blake3Hasher.CreateKeyed(new byte[33]));
    }

    [Theory]
    [MemberData(nameof(LaneLimits))]
    public void HashMany_equals_per_input_hash_in_every_mode(int lanes)
    {
        var rng = new Random(99 + lanes);
        // Lengths chosen to mix single-block, multi-block, exactly-one-chunk, empty and multi-chunk inputs,
        // so lanes finish after different numbers of blocks.
        var lengths = new List<int>();
        for (var i = 0; i < 300; i++)
        {
            lengths.Add(rng.Next(6) switch
            {
                0 => rng.Next(0, 65),
                1 => rng.Next(65, 1025),
                2 => 1024,
                3 => 0,
                4 => rng.Next(1025, 5000),
                _ => 5,
            });
        }
        var offsets = new int[lengths.Count + 1];
        for (var i = 0; i < lengths.Count; i++)
        {
            offsets[i + 1] = offsets[i] + lengths[i];
        }
        var data = new byte[offsets[^1]];
        rng.NextBytes(data);
        var key = new byte[32];
        rng.NextBytes(key);
        var keyWords = Blake3Spec.KeyWords(key);
        var contextKey = Blake3.ContextKey("duckton tests 2025 HashMany");
        var iv = Blake3Spec.IV;

        foreach (var (mode, modeKey, flags) in new[] { ("hash", iv, 0u), ("keyed", keyWords, Blake3Spec.KeyedHash), ("derive", contextKey, Blake3Spec.DeriveKeyMaterial) })
        {
            var digests = new byte[lengths.Count * 32];
            Blake3.HashManyCore(data, offsets, digests, in modeKey, flags, lanes);
            for (var i = 0; i < lengths.Count; i++)
            {
                var one = new byte[32];
                Blake3.HashCore(data.AsSpan(offsets[i], lengths[i]), in modeKey, flags, one, 1);
                Assert.True(one.AsSpan().SequenceEqual(digests.AsSpan(i * 32, 32)), $"{mode} input {i} len {lengths[i]} lanes {lanes}");
            }
        }

        // The public overloads agree with the one-shot API.
        var plain = new byte[lengths.Count * 32];
        Blake3.HashMany(data, offsets, plain);
        var keyed = new byte[lengths.Count * 32];
        Blake3.KeyedHashMany(key, data, offsets, keyed);
        var derived = new byte[lengths.Count * 32];
        Blake3.DeriveKeyMany("duckton tests 2025 HashMany", data, offsets, derived);
        for (var i = 0; i < lengths.Count; i++)
        {
            var input = data.AsSpan(offsets[i], lengths[i]);
            Assert.Equal(Blake3.Hash(input), plain.AsSpan(i * 32, 32).ToArray());
            Assert.Equal(Blake3.KeyedHash(key, input), keyed.AsSpan(i * 32, 32).ToArray());
            Assert.Equal(Blake3.DeriveKey("duckton tests 2025 HashMany", input), derived.AsSpan(i * 32, 32).ToArray());
        }
    }

    [Fact]
    public void HashMany_validates_its_arguments()
    {
        Assert.Throws<ArgumentException>(() => Blake3.HashMany(new byte[4], [0, 4], new byte[31]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Blake3.HashMany(new byte[4], [0, 5], new byte[32]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Blake3.HashMany(new byte[4], [3, 2], new byte[32]));
        Blake3.HashMany([], [0], []); // zero inputs
    }
}
