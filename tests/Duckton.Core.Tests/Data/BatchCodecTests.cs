using System.Buffers;
using Duckton.Core.Data;

namespace Duckton.Core.Tests.Data;

public class BatchCodecTests
{
    public static TheoryData<string> SampleNames()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _) in SampleBatches.All())
        {
            data.Add(name);
        }
        return data;
    }

    /// <summary>Encodes schema and batch, decodes both, and checks the batch is logically equal and re-encodes to the same bytes.</summary>
    internal static ResultBatch RoundTrip(ResultBatch batch, CodecLimits? limits = null)
    {
        var schemaBytes = BatchCodec.EncodeSchema(batch.Schema);
        var schema = BatchCodec.DecodeSchema(schemaBytes, limits);
        Assert.Equal(batch.Schema, schema);
        var bytes = BatchCodec.EncodeBatch(batch);
        var decoded = BatchCodec.DecodeBatch(bytes, schema, limits);
        Assert.Null(BatchComparer.Difference(batch, decoded));
        Assert.Equal(bytes, BatchCodec.EncodeBatch(decoded));
        return decoded;
    }

    [Theory]
    [MemberData(nameof(SampleNames))]
    public void Every_type_round_trips_exactly(string name)
    {
        var batch = SampleBatches.All().Single(s => s.Name == name).Batch;
        RoundTrip(batch);
    }

    [Fact]
    public void Fixed_width_storage_round_trips_byte_for_byte()
    {
        // Floats compare by bits: NaN payloads and -0.0 survive.
        var batch = SampleBatches.All().Single(s => s.Name == "double").Batch;
        var decoded = RoundTrip(batch);
        Assert.Equal(batch.Columns[0].Fixed, decoded.Columns[0].Fixed);
        Assert.Equal(0x7FF8_0000_0000_0001UL, BitConverter.DoubleToUInt64Bits(BitConverter.ToDouble(decoded.Columns[0].Fixed, 8)));
    }

    [Fact]
    public void An_all_valid_mask_is_omitted()
    {
        var withMask = new ColumnVector(DuckType.Integer, 3, new byte[12], [ulong.MaxValue]);
        var withoutMask = new ColumnVector(DuckType.Integer, 3, new byte[12]);
        var a = BatchCodec.EncodeBatch(SampleBatches.Single("v", withMask));
        var b = BatchCodec.EncodeBatch(SampleBatches.Single("v", withoutMask));
        Assert.Equal(b, a);
        // version, rows, columns, flags, 12 data bytes
        Assert.Equal(4 + 12, a.Length);
        Assert.Null(BatchCodec.DecodeBatch(a, SampleBatches.Single("v", withMask).Schema).Columns[0].Validity);
    }

    [Fact]
    public void List_children_that_do_not_start_at_zero_are_sliced()
    {
        // Offsets start at 3 and the child carries extra entries at both ends, with NULLs across word boundaries.
        var childValues = Enumerable.Range(0, 200).Select(i => i % 7 == 0 ? (int?)null : i).ToArray();
        var child = SampleBatches.Ints(childValues);
        int[] offsets = [3, 70, 70, 150];
        var list = new ColumnVector(DuckType.List(DuckType.Integer), 3, validity: ColumnVectors.Validity([false, true, false]), offsets: offsets, children: [child]);
        var decoded = RoundTrip(SampleBatches.Single("l", list)).Columns[0];
        Assert.Equal(0, decoded.Offsets[0]);
        Assert.Equal(147, decoded.Children[0].Length);
    }

    [Fact]
    public void Nulls_in_strings_are_sent_empty()
    {
        // The bytes under a NULL row do not travel.
        var v = new ColumnVector(DuckType.Varchar, 2, validity: ColumnVectors.Validity([true, false]), offsets: [0, 5, 6], bytes: "hiddenX"u8[..6].ToArray());
        var decoded = RoundTrip(SampleBatches.Single("s", v)).Columns[0];
        Assert.Equal(0, decoded.GetBytes(0).Length);
        Assert.Equal("n", System.Text.Encoding.UTF8.GetString(decoded.GetBytes(1)));
    }

    [Fact]
    public void Encoding_writes_to_any_buffer_writer_in_pieces()
    {
        var batch = SampleBatches.All().Single(s => s.Name == "varchar").Batch;
        var chunked = new TinySegmentWriter();
        BatchCodec.EncodeBatch(batch, chunked);
        Assert.Equal(BatchCodec.EncodeBatch(batch), chunked.Written.ToArray());
    }

    [Fact]
    public void Nesting_is_bounded_at_the_configured_depth()
    {
        var type = DuckType.Integer;
        for (var i = 1; i < 32; i++)
        {
            type = DuckType.List(type);
        }
        var schema = new ResultSchema(["deep"], [type]);
        Assert.Equal(schema, BatchCodec.DecodeSchema(BatchCodec.EncodeSchema(schema)));
        var deeper = new ResultSchema(["deeper"], [DuckType.List(type)]);
        var e = Assert.Throws<CodecException>(() => BatchCodec.DecodeSchema(BatchCodec.EncodeSchema(deeper)));
        Assert.Contains("32", e.Message, StringComparison.Ordinal);

        var nulls = ColumnVectors.Nulls(type, 3);
        RoundTrip(new ResultBatch(schema, [nulls], 3));
    }

    [Fact]
    public void Limits_are_enforced()
    {
        var batch = SampleBatches.Single("v", SampleBatches.Ints(1, 2, 3, 4));
        var bytes = BatchCodec.EncodeBatch(batch);
        Assert.Throws<CodecException>(() => BatchCodec.DecodeBatch(bytes, batch.Schema, new CodecLimits { MaxRowsPerBatch = 3 }));
        Assert.Throws<CodecException>(() => BatchCodec.DecodeBatch(bytes, batch.Schema, new CodecLimits { MaxTotalValues = 3 }));

        var strings = SampleBatches.Single("s", ColumnVectors.Varchar("0123456789"));
        Assert.Throws<CodecException>(() => BatchCodec.DecodeBatch(BatchCodec.EncodeBatch(strings), strings.Schema, new CodecLimits { MaxStringBytes = 9 }));

        var wide = new ResultSchema(Enumerable.Range(0, 5).Select(i => $"c{i}").ToArray(), Enumerable.Repeat(DuckType.Integer, 5).ToArray());
        Assert.Throws<CodecException>(() => BatchCodec.DecodeSchema(BatchCodec.EncodeSchema(wide), new CodecLimits { MaxColumns = 4 }));

        var array = new ResultSchema(["a"], [DuckType.Array(DuckType.Integer, 100_001)]);
        Assert.Throws<CodecException>(() => BatchCodec.DecodeSchema(BatchCodec.EncodeSchema(array)));

        // "NULL"[100000] arrays take no bytes per value: the value budget stops them.
        var nullArrays = new ResultSchema(["a"], [DuckType.Array(DuckType.Of(DuckTypeId.SqlNull), 100_000)]);
        byte[] hostile = [BatchCodec.Version, 0x80, 0x80, 0x40, 1, 0, 0];
        Assert.Throws<CodecException>(() => BatchCodec.DecodeBatch(hostile, nullArrays));
    }

    [Fact]
    public void Malformed_input_is_rejected_with_a_reason()
    {
        var batch = SampleBatches.All().Single(s => s.Name == "several columns").Batch;
        var bytes = BatchCodec.EncodeBatch(batch);
        AssertRejects(bytes[..^1], batch.Schema, "truncated");
        AssertRejects([.. bytes, 0], batch.Schema, "unexpected bytes");
        AssertRejects([2, .. bytes[1..]], batch.Schema, "version");
        AssertRejects(bytes, new ResultSchema(["x"], [DuckType.Integer]), "columns");
        AssertRejects([], batch.Schema, "truncated");
        // Row count 3 written with a redundant continuation byte.
        AssertRejects([BatchCodec.Version, 0x83, 0x00, .. bytes[2..]], batch.Schema, "minimally");

        var enumType = DuckType.Enum(["a", "b"]);
        var badEnum = SampleBatches.Single("e", new ColumnVector(enumType, 1, [2]));
        AssertRejects(BatchCodec.EncodeBatch(badEnum), badEnum.Schema, "ENUM index");

        var unionType = DuckType.Union([new DuckField("i", DuckType.Integer)]);
        var badUnion = SampleBatches.Single("u", new ColumnVector(unionType, 1, children: [new ColumnVector(DuckType.Of(DuckTypeId.UTinyInt), 1, [1]), SampleBatches.Ints(5)]));
        AssertRejects(BatchCodec.EncodeBatch(badUnion), badUnion.Schema, "UNION tag");

        var badText = SampleBatches.Single("s", ColumnVectors.ByteStrings(DuckType.Varchar, [[0xC3, 0x28]]));
        AssertRejects(BatchCodec.EncodeBatch(badText), badText.Schema, "UTF-8");

        // Validity bits past the last row.
        var one = SampleBatches.Single("v", SampleBatches.Ints((int?)null));
        var encoded = BatchCodec.EncodeBatch(one);
        encoded[4] |= 0x80; // version, rows, columns, flags, then the one validity byte
        AssertRejects(encoded, one.Schema, "past the last row");

        AssertSchemaRejects([BatchCodec.Version, 1, 1, (byte)'a', 99], "unknown type id");
        AssertSchemaRejects([BatchCodec.Version, 1, 1, (byte)'a', (byte)DuckTypeId.Decimal, 39, 2], "DECIMAL");
        AssertSchemaRejects([BatchCodec.Version, 1, 2, 0xC3, 0x28, (byte)DuckTypeId.Integer], "UTF-8");
    }

    private static void AssertRejects(byte[] bytes, ResultSchema schema, string reason)
    {
        var e = Assert.Throws<CodecException>(() => BatchCodec.DecodeBatch(bytes, schema));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    private static void AssertSchemaRejects(byte[] bytes, string reason)
    {
        var e = Assert.Throws<CodecException>(() => BatchCodec.DecodeSchema(bytes));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Comparer_ignores_storage_under_nulls_and_inactive_union_members()
    {
        var a = new ColumnVector(DuckType.Integer, 2, [1, 0, 0, 0, 9, 9, 9, 9], ColumnVectors.Validity([false, true]));
        var b = new ColumnVector(DuckType.Integer, 2, [1, 0, 0, 0, 0, 0, 0, 0], ColumnVectors.Validity([false, true]));
        Assert.True(BatchComparer.Equal(SampleBatches.Single("v", a), SampleBatches.Single("v", b)));
        var c = new ColumnVector(DuckType.Integer, 2, [2, 0, 0, 0, 0, 0, 0, 0], ColumnVectors.Validity([false, true]));
        Assert.Equal("column 0 'v' row 0: 1 vs 2", BatchComparer.Difference(SampleBatches.Single("v", a), SampleBatches.Single("v", c)));

        var unionType = DuckType.Union([new DuckField("i", DuckType.Integer), new DuckField("s", DuckType.Varchar)]);
        var u1 = ColumnVectors.Union(unionType, [0], [SampleBatches.Ints(5), ColumnVectors.Varchar("ignored")]);
        var u2 = ColumnVectors.Union(unionType, [0], [SampleBatches.Ints(5), ColumnVectors.Varchar((string?)null)]);
        Assert.True(BatchComparer.ValuesEqual(u1, 0, u2, 0));

        var nested = ColumnVectors.List(DuckType.List(DuckType.Integer), [2], SampleBatches.Ints(1, 2));
        var other = ColumnVectors.List(DuckType.List(DuckType.Integer), [2], SampleBatches.Ints(1, null));
        Assert.Equal("[1]: 2 vs NULL", BatchComparer.ValueDifference(nested, 0, other, 0));
    }

    [Fact]
    public void Result_sets_compare_across_batch_boundaries()
    {
        var schema = new ResultSchema(["v"], [DuckType.Integer]);
        var whole = new ResultSet(schema, [new ResultBatch(schema, [SampleBatches.Ints(1, 2, 3)], 3)]);
        var split = new ResultSet(schema, [
            new ResultBatch(schema, [SampleBatches.Ints(1)], 1),
            new ResultBatch(schema, [SampleBatches.Ints()], 0),
            new ResultBatch(schema, [SampleBatches.Ints(2, 3)], 2),
        ]);
        Assert.True(BatchComparer.Equal(whole, split));
        var different = new ResultSet(schema, [new ResultBatch(schema, [SampleBatches.Ints(1, 2, 4)], 3)]);
        Assert.Equal("column 0 'v' row 2: 3 vs 4", BatchComparer.Difference(whole, different));
    }

    /// <summary>A buffer writer that hands out tiny spans unless asked for more, as a pipe might.</summary>
    private sealed class TinySegmentWriter : IBufferWriter<byte>
    {
        private readonly ArrayBufferWriter<byte> _inner = new();

        public ReadOnlySpan<byte> Written => _inner.WrittenSpan;

        public void Advance(int count) => _inner.Advance(count);

        public Memory<byte> GetMemory(int sizeHint = 0) => _inner.GetMemory(sizeHint).Slice(0, Math.Max(sizeHint, 1));

        public Span<byte> GetSpan(int sizeHint = 0) => _inner.GetSpan(sizeHint).Slice(0, Math.Max(sizeHint, 1));
    }
}

public class BatchCodecDocumentedExampleTests
{
    [Fact]
    public void The_example_in_PROTOCOL_md_is_exact()
    {
        var listType = DuckType.List(DuckType.Varchar);
        var batch = SampleBatches.Of(("i", SampleBatches.Ints(7, null)),
            ("s", ColumnVectors.List(listType, [2, 0], ColumnVectors.Varchar("a", null))));
        Assert.Equal("0102016904017318 11".Replace(" ", "", StringComparison.Ordinal), Convert.ToHexString(BatchCodec.EncodeSchema(batch.Schema)));
        Assert.Equal("010202" + "0101" + "0700000000000000" + "00" + "0200" + "0101" + "0100" + "61",
            Convert.ToHexString(BatchCodec.EncodeBatch(batch)));
    }
}
