using Duckton.Core.Data;
using Duckton.Core.Hashing;

namespace Duckton.Core.Tests.Data;

public class NamesAndGeometryTests
{
    [Theory]
    [InlineData("a,a,a,a_1", "a,a_1,a_2,a_1_1")] // DuckDB 1.5.6: SELECT * FROM (SELECT 1 AS a, 2 AS a, 3 AS a, 4 AS a_1)
    [InlineData("a,a_1,a,A,a_2", "a,a_1,a_2,A_3,a_2_1")]
    [InlineData("a,A", "a,A_1")]
    [InlineData("a_1,a,a", "a_1,a,a_2")]
    [InlineData("Ä,ä,ä", "Ä,ä,ä_1")] // case folding is ASCII only
    [InlineData("x,y,z", "x,y,z")]
    [InlineData(",", ",_1")]
    public void Repeated_names_get_DuckDBs_suffixes(string names, string expected)
    {
        Assert.Equal(expected.Split(','), ColumnNames.Deduplicate(names.Split(',')));
    }

    private static readonly byte[] s_point = Convert.FromHexString("0101000000000000000000F03F0000000000000040"); // POINT (1 2)

    [Fact]
    public void Well_formed_wkb_is_accepted_and_shown_as_wkt()
    {
        Assert.True(Wkb.IsValid(s_point));
        var sb = new System.Text.StringBuilder();
        Wkb.AppendWkt(sb, s_point);
        Assert.Equal("POINT (1 2)", sb.ToString());
        // Big-endian WKB of the same point.
        Assert.True(Wkb.IsValid(Convert.FromHexString("00000000013FF00000000000004000000000000000")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("01")]
    [InlineData("0101000000000000000000F03F00000000000000")] // truncated coordinate
    [InlineData("0101000000000000000000F03F000000000000004000")] // trailing byte
    [InlineData("0108000000")] // type 8 does not exist
    [InlineData("02010000000000000000000000000000000000000000")] // byte order 2
    [InlineData("0102000000FFFFFFFF")] // a count far beyond the bytes
    [InlineData("0104000000010000000102000000000000000000")] // MULTIPOINT holding a LINESTRING
    public void Malformed_wkb_is_refused_by_the_codec(string hex)
    {
        var bytes = Convert.FromHexString(hex);
        Assert.False(Wkb.IsValid(bytes));
        var schema = new ResultSchema(["g"], [DuckType.Of(DuckTypeId.Geometry)]);
        var batch = new ResultBatch(schema, [ColumnVectors.ByteStrings(schema.Types[0], [bytes])], 1);
        Assert.Throws<CodecException>(() => BatchCodec.DecodeBatch(BatchCodec.EncodeBatch(batch), schema));
    }

    [Fact]
    public void Geometry_round_trips_through_the_codec_and_hashes_with_its_own_type_id()
    {
        var schema = new ResultSchema(["g"], [DuckType.Of(DuckTypeId.Geometry)]);
        Assert.Equal("GEOMETRY", schema.Types[0].ToString());
        var batch = new ResultBatch(schema, [ColumnVectors.ByteStrings(schema.Types[0], [s_point, null])], 2);
        Assert.Equal(schema, BatchCodec.DecodeSchema(BatchCodec.EncodeSchema(schema)));
        var decoded = BatchCodec.DecodeBatch(BatchCodec.EncodeBatch(batch), schema);
        Assert.Equal(s_point, decoded.Columns[0].GetBytes(0).ToArray());
        Assert.False(decoded.Columns[0].IsValid(1));
        // cell = u8(40) ‖ u32(21) ‖ the WKB: the same bytes as a BLOB (id 18) hash differently.
        var blobSchema = new ResultSchema(["g"], [DuckType.Of(DuckTypeId.Blob)]);
        var blob = new ResultBatch(blobSchema, [ColumnVectors.ByteStrings(blobSchema.Types[0], [s_point, null])], 2);
        Assert.NotEqual(CanonicalResultHash.Compute(new ResultSet(schema, [batch])), CanonicalResultHash.Compute(new ResultSet(blobSchema, [blob])));
    }
}
