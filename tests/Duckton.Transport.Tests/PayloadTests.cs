namespace Duckton.Transport.Tests;

public sealed class PayloadTests
{
    [Fact]
    public void Writer_and_reader_agree_on_the_documented_encoding()
    {
        var w = new PayloadWriter()
            .WriteByte(7).WriteUInt16(0x0102).WriteUInt32(0x03040506).WriteUInt64(0x0708090A0B0C0D0E).WriteInt64(-2)
            .WriteBoolean(true).WriteString("héllo", 16, "s").WriteOptionalString(null, 8, "o").WriteBytes(new byte[] { 9, 9 }, 4, "b");
        var bytes = w.ToArray();
        Assert.Equal(new byte[] { 7, 0x02, 0x01, 0x06, 0x05, 0x04, 0x03 }, bytes[..7]);
        Assert.Equal(new byte[] { 6, 0, 0, 0, (byte)'h', 0xC3, 0xA9 }, bytes[(7 + 8 + 8 + 1)..(7 + 8 + 8 + 1 + 7)]);
        var r = new PayloadReader(bytes);
        Assert.Equal(7, r.ReadByte("a"));
        Assert.Equal(0x0102, r.ReadUInt16("b"));
        Assert.Equal(0x03040506u, r.ReadUInt32("c"));
        Assert.Equal(0x0708090A0B0C0D0Eul, r.ReadUInt64("d"));
        Assert.Equal(-2, r.ReadInt64("e"));
        Assert.True(r.ReadBoolean("f"));
        Assert.Equal("héllo", r.ReadString(16, "g"));
        Assert.Null(r.ReadOptionalString(8, "h"));
        Assert.Equal(new byte[] { 9, 9 }, r.ReadBytes(4, "i").ToArray());
        r.EnsureEnd("payload");
    }

    [Fact]
    public void Caps_bad_utf8_bad_booleans_and_short_input_are_payload_errors()
    {
        Assert.Throws<ArgumentException>(() => new PayloadWriter().WriteString("toolong", 3, "s"));
        Assert.Contains("exceeds the cap", Read(new PayloadWriter().WriteString("toolong", 99, "s").ToArray(), r => r.ReadString(3, "field")));
        Assert.Contains("not valid UTF-8", Read([2, 0, 0, 0, 0xC3, 0x28], r => r.ReadString(8, "field")));
        Assert.Contains("boolean", Read([2], r => r.ReadBoolean("field")));
        Assert.Contains("needs 4 bytes", Read([1, 2], r => r.ReadUInt32("field")));
        Assert.Contains("trailing", Read([1, 2], r =>
        {
            r.ReadByte("x");
            r.EnsureEnd("payload");
        }));
    }

    private static string Read(byte[] bytes, Func<PayloadReader, object?> action)
    {
        try
        {
            action(new PayloadReader(bytes));
        }
        catch (PayloadFormatException ex)
        {
            return ex.Message;
        }
        return "no error";
    }

    private static string Read(byte[] bytes, Action<PayloadReader> action) => Read(bytes, r =>
    {
        action(r);
        return null;
    });
}
