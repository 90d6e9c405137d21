using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Duckton.Core.Data;
using Duckton.Core.Hashing;

namespace Duckton.Core.Tests.Hashing;

public class CanonicalResultHashTests
{
    private static ResultSchema Schema(params (string Name, DuckType Type)[] columns) =>
        new([.. columns.Select(c => c.Name)], [.. columns.Select(c => c.Type)]);

    /// <summary>A typed NULL cell (a bare null would bind to the params array itself).</summary>
    private static JsonNode? Null => null;

    private static JsonNode?[] Row(params JsonNode?[] cells) => cells;

    private static ResultDigest Hash(ResultSchema schema, params JsonNode?[][] rows) =>
        CanonicalResultHash.Compute(new ResultSet(schema, [JsonColumns.Batch(schema, rows)]));

    [Fact]
    public void Published_vectors_match()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "TestData", "canonical-hash-vectors.json");
        var file = JsonNode.Parse(File.ReadAllText(path))!;
        var cases = file["cases"]!.AsArray();
        Assert.True(cases.Count >= 8);
        var failures = new List<string>();
        foreach (var c in cases)
        {
            var schema = JsonColumns.ParseSchema(c!["columns"]!.AsArray());
            var rows = c["rows"]!.AsArray().Select(r => r!.AsArray().Select(v => v?.DeepClone()).ToArray()).ToList();
            var actual = CanonicalResultHash.Compute(new ResultSet(schema, [JsonColumns.Batch(schema, rows)])).ToString();
            if (actual != c["expected"]!.GetValue<string>())
            {
                failures.Add($"{c["name"]}: expected {c["expected"]}, actual {actual}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>Rebuilds two digests by hand from docs/PROTOCOL.md with only the BLAKE3 API, to pin the documented bytes.</summary>
    [Fact]
    public void Digest_follows_the_documented_encoding_byte_for_byte()
    {
        // SELECT 42 AS answer -> one INTEGER column.
        var header = new List<byte>();
        header.AddRange("duckton-result-v1"u8.ToArray());
        header.AddRange(U32(1));                  // column count
        header.AddRange(U32(6));                  // name length
        header.AddRange("answer"u8.ToArray());
        header.Add(4);                            // INTEGER type id
        header.AddRange(U64(1));                  // row count
        var row = new byte[] { 4, 42, 0, 0, 0 }; // tag INTEGER, i32 LE
        var rowDigest = Blake3.DeriveKey("duckton-result-v1 row", row);
        var expected = Blake3.Hash([.. header, .. rowDigest]);
        var schema = Schema(("answer", DuckType.Integer));
        Assert.Equal(Convert.ToHexStringLower(expected), Hash(schema, Row(42)).ToString());

        // (l INTEGER[], s STRUCT(a VARCHAR)) with rows ([1, NULL], {'a': ''}) and (NULL, NULL): digests sorted.
        var nestedSchema = Schema(("l", DuckType.List(DuckType.Integer)), ("s", DuckType.Struct([new DuckField("a", DuckType.Varchar)])));
        var h = new List<byte>();
        h.AddRange("duckton-result-v1"u8.ToArray());
        h.AddRange(U32(2));
        h.AddRange(U32(1));
        h.Add((byte)'l');
        h.AddRange([24, 4]);                      // LIST of INTEGER
        h.AddRange(U32(1));
        h.Add((byte)'s');
        h.Add(25);                                // STRUCT
        h.AddRange(U32(1));                       // one field
        h.AddRange(U32(1));
        h.Add((byte)'a');
        h.Add(17);                                // VARCHAR
        h.AddRange(U64(2));
        byte[] row1 = [24, .. U32(2), 4, 1, 0, 0, 0, 0, /* struct */ 25, 17, .. U32(0)];
        byte[] row2 = [0, 0];
        var digests = new[] { Blake3.DeriveKey("duckton-result-v1 row", row1), Blake3.DeriveKey("duckton-result-v1 row", row2) }
            .OrderBy(d => Convert.ToHexStringLower(d), StringComparer.Ordinal).SelectMany(d => d);
        var nestedExpected = Blake3.Hash([.. h, .. digests]);
        var actual = Hash(nestedSchema, Row(new JsonArray(1, Null), new JsonObject { ["a"] = "" }), Row(Null, Null));
        Assert.Equal(Convert.ToHexStringLower(nestedExpected), actual.ToString());
    }

    private static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    private static byte[] U64(ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return b;
    }

    [Fact]
    public void Hashing_a_one_row_result_allocates_for_one_row_not_for_a_full_slice()
    {
        // Every verified query re-hashes its result; most are a few rows. Slice buffers sized for 1,024 rows cost a
        // requester ~58 KB per hasher per query (and the garbage collections that follow).
        var schema = Schema(("answer", DuckType.Integer));
        var batch = JsonColumns.Batch(schema, [Row(42)]);
        var expected = CanonicalResultHash.Compute(new ResultSet(schema, [batch]));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var hasher = new CanonicalResultHasher(schema);
        hasher.Add(batch);
        var digest = hasher.Finish();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(expected, digest);
        Assert.True(allocated < 12 * 1024, $"hashing one row allocated {allocated} bytes");
    }

    [Fact]
    public void Null_zero_empty_string_empty_list_and_struct_of_nulls_all_differ()
    {
        var intSchema = Schema(("v", DuckType.Integer));
        var textSchema = Schema(("v", DuckType.Varchar));
        var listSchema = Schema(("v", DuckType.List(DuckType.Integer)));
        var structSchema = Schema(("v", DuckType.Struct([new DuckField("a", DuckType.Integer)])));
        var digests = new[]
        {
            Hash(intSchema, Row(Null)),
            Hash(intSchema, Row(0)),
            Hash(textSchema, Row(Null)),
            Hash(textSchema, Row("")),
            Hash(listSchema, Row(Null)),
            Hash(listSchema, Row(new JsonArray())),
            Hash(listSchema, Row(new JsonArray((JsonNode?)null))),
            Hash(structSchema, Row(Null)),
            Hash(structSchema, Row(new JsonObject { ["a"] = null })),
            Hash(structSchema, Row(new JsonObject { ["a"] = 0 })),
        };
        Assert.Equal(digests.Length, digests.Distinct().Count());
    }

    [Fact]
    public void All_NaNs_are_one_value_and_negative_zero_equals_zero()
    {
        var doubles = Schema(("v", DuckType.Double));
        var nan = Hash(doubles, Row("NaN"));
        Assert.Equal(nan, Hash(doubles, Row("-NaN")));
        Assert.Equal(nan, Hash(doubles, Row("0x7ff0000000000001"))); // signalling NaN
        Assert.Equal(nan, Hash(doubles, Row("0xfff8deadbeef0000"))); // payload and sign
        Assert.NotEqual(nan, Hash(doubles, Row("Infinity")));
        Assert.Equal(Hash(doubles, Row(0.0)), Hash(doubles, Row("-0.0")));
        Assert.NotEqual(Hash(doubles, Row(0.0)), Hash(doubles, Row(Null)));

        var floats = Schema(("v", DuckType.Of(DuckTypeId.Float)));
        Assert.Equal(Hash(floats, Row("NaN")), Hash(floats, Row("0xff800001")));
        Assert.Equal(Hash(floats, Row(0.0)), Hash(floats, Row("-0.0")));
        Assert.NotEqual(Hash(floats, Row("Infinity")), Hash(floats, Row("-Infinity")));

        // Nested floats are normalised too.
        var lists = Schema(("v", DuckType.List(DuckType.Double)));
        Assert.Equal(Hash(lists, Row(new JsonArray("NaN", "-0.0"))), Hash(lists, Row(new JsonArray("-NaN", 0.0))));
    }

    [Fact]
    public void Column_names_types_and_type_parameters_matter()
    {
        var one = Hash(Schema(("a", DuckType.Integer)), Row(1));
        Assert.NotEqual(one, Hash(Schema(("a", DuckType.BigInt)), Row(1)));
        Assert.NotEqual(one, Hash(Schema(("b", DuckType.Integer)), Row(1)));
        Assert.NotEqual(one, Hash(Schema(("a", DuckType.Of(DuckTypeId.UInteger))), Row(1)));
        Assert.NotEqual(one, Hash(Schema(("a", DuckType.Varchar)), Row("1")));
        Assert.NotEqual(Hash(Schema(("a", DuckType.Decimal(10, 2))), Row("1.00")), Hash(Schema(("a", DuckType.Decimal(10, 3))), Row("0.100")));
        Assert.NotEqual(Hash(Schema(("a", DuckType.Integer), ("b", DuckType.Integer)), Row(1, 2)),
            Hash(Schema(("b", DuckType.Integer), ("a", DuckType.Integer)), Row(2, 1)));
        // The same DECIMAL value stored at different widths encodes the same body, but the types differ.
        Assert.NotEqual(Hash(Schema(("a", DuckType.Decimal(4, 1))), Row("1.5")), Hash(Schema(("a", DuckType.Decimal(18, 1))), Row("1.5")));
        // ENUM values hash by label: the same labels under different dictionary orders differ only through the schema.
        var e1 = DuckType.Enum(["x", "y"]);
        var e2 = DuckType.Enum(["y", "x"]);
        Assert.NotEqual(Hash(Schema(("a", e1)), Row("x")), Hash(Schema(("a", e2)), Row("x")));
    }

    [Fact]
    public void Enum_cells_encode_the_label_not_the_index()
    {
        // Rows under two dictionaries that differ in order: the cell digests must coincide.
        var e1 = DuckType.Enum(["x", "y"]);
        var e2 = DuckType.Enum(["y", "x"]);
        var c1 = CellCodec.For(e1);
        var c2 = CellCodec.For(e2);
        var v1 = JsonColumns.Build(e1, ["x"]);
        var v2 = JsonColumns.Build(e2, ["x"]);
        var b1 = new byte[c1.Measure(v1, 0)];
        var b2 = new byte[c2.Measure(v2, 0)];
        c1.Write(v1, 0, b1);
        c2.Write(v2, 0, b2);
        Assert.Equal(new byte[] { 23, 1, 0, 0, 0, (byte)'x' }, b1);
        Assert.Equal(b1, b2);
    }

    [Fact]
    public void Duplicate_rows_count()
    {
        var schema = Schema(("v", DuckType.Integer));
        var once = Hash(schema, Row(1), Row(2));
        Assert.NotEqual(once, Hash(schema, Row(1), Row(1), Row(2)));
        Assert.NotEqual(Hash(schema, Row(1), Row(1), Row(2)), Hash(schema, Row(1), Row(2), Row(2)));
        Assert.Equal(Hash(schema, Row(2), Row(1), Row(1)), Hash(schema, Row(1), Row(2), Row(1)));
    }

    [Fact]
    public void Order_and_batching_do_not_matter_for_many_rows_of_many_types()
    {
        var rng = new Random(7);
        var schema = RandomData.WideSchema;
        var rows = Enumerable.Range(0, 2500).Select(_ => RandomData.Row(rng, schema)).ToList();
        rows.AddRange(rows.Take(300).Select(r => r.Select(v => v?.DeepClone()).ToArray())); // duplicates
        var expected = CanonicalResultHash.Compute(new ResultSet(schema, [JsonColumns.Batch(schema, rows)]));
        for (var trial = 0; trial < 4; trial++)
        {
            var shuffled = rows.OrderBy(_ => rng.Next()).ToList();
            var batches = new List<ResultBatch>();
            for (var i = 0; i < shuffled.Count;)
            {
                var size = Math.Min(rng.Next(1, 700), shuffled.Count - i);
                batches.Add(JsonColumns.Batch(schema, shuffled.GetRange(i, size)));
                i += size;
            }
            var hasher = new CanonicalResultHasher(schema, maxLanes: new[] { 0, 1, 4, 8 }[trial]);
            foreach (var b in batches)
            {
                hasher.Add(b);
            }
            Assert.Equal(rows.Count, hasher.RowCount);
            Assert.Equal(expected, hasher.Finish());
        }
    }

    [Fact]
    public void Large_results_sort_through_the_bucketed_path_and_stay_order_independent()
    {
        // Beyond the flat limit digests are bucketed on arrival; also many exact duplicates.
        const int N = 70_000;
        var schema = Schema(("v", DuckType.BigInt));
        var values = new long[N];
        var rng = new Random(3);
        for (var i = 0; i < N; i++)
        {
            values[i] = i < 10_000 ? 5 : rng.NextInt64();
        }
        var forward = HashLongs(schema, values, 4096);
        rng.Shuffle(values);
        Assert.Equal(forward, HashLongs(schema, values, 777));
        values[12345] ^= 1;
        Assert.NotEqual(forward, HashLongs(schema, values, 777));
    }

    private static ResultDigest HashLongs(ResultSchema schema, long[] values, int batchRows)
    {
        var hasher = new CanonicalResultHasher(schema);
        for (var i = 0; i < values.Length; i += batchRows)
        {
            var n = Math.Min(batchRows, values.Length - i);
            var bytes = new byte[n * 8];
            Buffer.BlockCopy(values, i * 8, bytes, 0, n * 8);
            hasher.Add(new ResultBatch(schema, [new ColumnVector(DuckType.BigInt, n, bytes)], n));
        }
        return hasher.Finish();
    }

    [Fact]
    public void Rows_split_across_hashers_and_absorbed_hash_as_one_hasher_does()
    {
        // A requester hashes a large result on several threads, each hasher taking whichever batches come, then absorbs
        // them into one. Every mix of small (flat) and large (bucketed) parts, absorbed in any order, into an empty hasher
        // or a full one, must give the single hasher's digest; a changed row must not.
        var schema = Schema(("v", DuckType.BigInt));
        var rng = new Random(23);
        foreach (var (n, parts) in new[] { (0, 2), (10, 3), (5_000, 2), (9_000, 4), (70_000, 2), (300_000, 3), (300_000, 4) })
        {
            var values = new long[n];
            for (var i = 0; i < n; i++)
            {
                values[i] = i % 7 == 0 ? 42 : rng.NextInt64(); // duplicates too
            }
            var expected = HashLongs(schema, values, 2048);
            for (var trial = 0; trial < 3; trial++)
            {
                var hashers = Enumerable.Range(0, parts).Select(_ => new CanonicalResultHasher(schema)).ToArray();
                // Uneven shares: one hasher may get almost nothing (stays flat) while another gets most (bucketed).
                for (var i = 0; i < n;)
                {
                    var size = Math.Min(rng.Next(1, 3000), n - i);
                    var bytes = new byte[size * 8];
                    Buffer.BlockCopy(values, i * 8, bytes, 0, size * 8);
                    hashers[rng.Next(100) < 70 ? 0 : rng.Next(parts)].Add(new ResultBatch(schema, [new ColumnVector(DuckType.BigInt, size, bytes)], size));
                    i += size;
                }
                var order = hashers.OrderBy(_ => rng.Next()).ToArray();
                for (var h = 1; h < order.Length; h++)
                {
                    order[0].Absorb(order[h]);
                    Assert.Throws<ObjectDisposedException>(() => order[h].Finish());
                }
                Assert.Equal(n, order[0].RowCount);
                Assert.Equal(expected, order[0].Finish(overlapSort: trial != 1)); // sorted while another thread hashes, or not
            }
            if (n > 0)
            {
                values[n / 2] ^= 1;
                var a = new CanonicalResultHasher(schema);
                var b = new CanonicalResultHasher(schema);
                var half = n / 2;
                a.Add(LongBatch(schema, values.AsSpan(0, half)));
                b.Add(LongBatch(schema, values.AsSpan(half)));
                a.Absorb(b);
                Assert.NotEqual(expected, a.Finish());
            }
        }

        var x = new CanonicalResultHasher(schema);
        Assert.Throws<ArgumentException>(() => x.Absorb(x));
        Assert.Throws<ArgumentException>(() => x.Absorb(new CanonicalResultHasher(Schema(("w", DuckType.BigInt)))));
        x.Finish();
        Assert.Throws<ObjectDisposedException>(() => x.Absorb(new CanonicalResultHasher(schema)));
    }

    private static ResultBatch LongBatch(ResultSchema schema, ReadOnlySpan<long> values)
    {
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).ToArray();
        return new ResultBatch(schema, [new ColumnVector(DuckType.BigInt, values.Length, bytes)], values.Length);
    }

    [Fact]
    public void Digest_sort_orders_bytes_lexicographically_with_duplicates()
    {
        var rng = new Random(11);
        foreach (var n in new[] { 0, 1, 2, 30, 300, 5000 })
        {
            var digests = new byte[n * 32];
            rng.NextBytes(digests);
            for (var i = 0; i < n / 3; i++)
            {
                digests.AsSpan(0, 32).CopyTo(digests.AsSpan(rng.Next(n) * 32, 32)); // duplicates
                digests[(rng.Next(n) * 32) + 0] = 0x42; // shared prefixes
            }
            var expected = Enumerable.Range(0, n).Select(i => digests.AsSpan(i * 32, 32).ToArray())
                .OrderBy(d => Convert.ToHexStringLower(d), StringComparer.Ordinal).SelectMany(d => d).ToArray();
            var sorted = new byte[n * 32];
            DigestSort.SortInto(digests.ToArray(), sorted, 0);
            Assert.Equal(expected, sorted);
        }
    }

    [Fact]
    public void Digest_set_orders_digests_whose_sort_keys_tie()
    {
        // The sort moves 64-bit keys (digest bytes with the low bits replaced by an index) and settles ties
        // by the full 32 bytes. Force ties: digests sharing their first 12 bytes and differing later, exact
        // duplicates, and thousands of two interleaved digests that share a sort slot (the insertion pass's
        // move budget then hands over to introsort). Every result must equal a plain byte-order sort.
        var rng = new Random(17);
        foreach (var n in new[] { 3000, 40_000, 120_000 })
        {
            var digests = new byte[n * 32];
            rng.NextBytes(digests);
            for (var i = 0; i < n / 4; i++)
            {
                digests.AsSpan(rng.Next(n) * 32, 12).CopyTo(digests.AsSpan(rng.Next(n) * 32, 12)); // prefix ties
                digests.AsSpan(rng.Next(n) * 32, 32).CopyTo(digests.AsSpan(rng.Next(n) * 32, 32)); // duplicates
            }
            byte[] high = [0x42, 0x42, 0x42, 0xF0, .. new byte[28]];
            byte[] low = [0x42, 0x42, 0x42, 0x10, .. new byte[28]];
            for (var i = 0; i < n / 8; i++)
            {
                (i % 2 == 0 ? high : low).CopyTo(digests.AsSpan(i * 32, 32)); // interleaved in index order
            }
            var expected = Enumerable.Range(0, n).Select(i => digests.AsSpan(i * 32, 32).ToArray())
                .OrderBy(d => Convert.ToHexStringLower(d), StringComparer.Ordinal).SelectMany(d => d).ToArray();

            var sorted = new byte[n * 32];
            DigestSort.SortInto(digests.ToArray(), sorted, 0);
            Assert.Equal(expected, sorted);

            foreach (var overlap in new[] { false, true })
            {
                var set = new RowDigestSet();
                for (var i = 0; i < n; i += 1000)
                {
                    set.Add(digests.AsSpan(i * 32, Math.Min(1000, n - i) * 32));
                }
                var hasher = new Blake3Hasher();
                hasher.Update("a prefix that is not a multiple of anything"u8); // as the result hash's domain, schema and count are
                set.WriteSorted(hasher, overlap);
                Assert.Equal(Blake3.Hash([.. "a prefix that is not a multiple of anything"u8, .. expected]), hasher.FinalizeToArray());
            }
        }
    }

    [Fact]
    public void Misuse_is_rejected()
    {
        var schema = Schema(("v", DuckType.Integer));
        var other = Schema(("w", DuckType.Integer));
        var hasher = new CanonicalResultHasher(schema);
        Assert.Throws<ArgumentException>(() => hasher.Add(JsonColumns.Batch(other, [Row(1)])));
        var wrongColumn = new ResultBatch(schema, [JsonColumns.Build(DuckType.BigInt, [1])], 1);
        Assert.Throws<ArgumentException>(() => hasher.Add(wrongColumn));
        var badEnum = new ResultBatch(Schema(("e", DuckType.Enum(["a"]))), [new ColumnVector(DuckType.Enum(["a"]), 1, [5])], 1);
        Assert.Throws<InvalidDataException>(() => CanonicalResultHash.Compute(new ResultSet(badEnum.Schema, [badEnum])));
        hasher.Finish();
        Assert.Throws<ObjectDisposedException>(() => hasher.Finish());
        Assert.Throws<ObjectDisposedException>(() => hasher.Add(JsonColumns.Batch(schema, [Row(1)])));
        Assert.Throws<NotSupportedException>(() => new CanonicalResultHasher(Schema(("x", DuckType.Of(DuckTypeId.Any)))));
    }

    [Fact]
    public void Digest_round_trips_through_hex()
    {
        var d = Hash(Schema(("v", DuckType.Integer)), Row(1));
        var text = d.ToString();
        Assert.Matches("^[0-9a-f]{64}$", text);
        Assert.Equal(d, ResultDigest.Parse(text));
        Assert.Equal(d, ResultDigest.Parse(text.ToUpperInvariant()));
        Assert.False(ResultDigest.TryParse("xyz", out _));
        Assert.Equal(text, Convert.ToHexStringLower(d.ToArray()));
    }

    [Fact]
    public void Empty_results_differ_by_schema()
    {
        var a = CanonicalResultHash.Compute(new ResultSet(Schema(("x", DuckType.Integer)), []));
        var b = CanonicalResultHash.Compute(new ResultSet(Schema(("x", DuckType.BigInt)), []));
        Assert.NotEqual(a, b);
        Assert.Equal(a, Hash(Schema(("x", DuckType.Integer))));
    }

    [Fact]
    public void Strings_are_not_normalised_and_length_prefixes_separate_cells()
    {
        var schema = Schema(("a", DuckType.Varchar), ("b", DuckType.Varchar));
        Assert.NotEqual(Hash(schema, Row("ab", "c")), Hash(schema, Row("a", "bc")));
        Assert.NotEqual(Hash(schema, Row("é", "")), Hash(schema, Row("e\u0301", "")));
        var blobs = Schema(("a", DuckType.Of(DuckTypeId.Blob)), ("b", DuckType.Of(DuckTypeId.Blob)));
        Assert.NotEqual(Hash(blobs, Row("00", "")), Hash(blobs, Row("", "00")));
    }

    [Fact]
    public void Unions_maps_and_arrays_are_exact()
    {
        var union = Schema(("u", DuckType.Union([new DuckField("i", DuckType.Integer), new DuckField("j", DuckType.Integer)])));
        Assert.NotEqual(Hash(union, Row(new JsonObject { ["i"] = 1 })), Hash(union, Row(new JsonObject { ["j"] = 1 })));
        Assert.NotEqual(Hash(union, Row(new JsonObject { ["i"] = null })), Hash(union, Row(Null)));

        var map = Schema(("m", DuckType.Map(DuckType.Varchar, DuckType.Integer)));
        Assert.NotEqual(Hash(map, Row(new JsonArray(new JsonArray("a", 1)))), Hash(map, Row(new JsonArray(new JsonArray("a", 2)))));
        Assert.NotEqual(Hash(map, Row(new JsonArray())), Hash(map, Row(Null)));

        var array = Schema(("v", DuckType.Array(DuckType.Integer, 2)));
        Assert.NotEqual(Hash(array, Row(new JsonArray(1, Null))), Hash(array, Row(new JsonArray(Null, 1))));
        Assert.NotEqual(Hash(array, Row(new JsonArray(Null, Null))), Hash(array, Row(Null)));

        var uuid = Schema(("u", DuckType.Of(DuckTypeId.Uuid)));
        var cellBytes = new byte[17];
        CellCodec.For(DuckType.Of(DuckTypeId.Uuid)).Write(JsonColumns.Build(DuckType.Of(DuckTypeId.Uuid), ["550e8400-e29b-41d4-a716-446655440000"]), 0, cellBytes);
        Assert.Equal("1b550e8400e29b41d4a716446655440000", Convert.ToHexStringLower(cellBytes));
        Assert.NotEqual(Hash(uuid, Row("00000000-0000-0000-0000-000000000001")), Hash(uuid, Row("00000000-0000-0000-0000-000000000100")));

        var text = Encoding.UTF8.GetBytes("x");
        Assert.Single(text);
    }
}
