using System.Text;
using System.Text.Json;
using Duckton.Core.Toml;

namespace Duckton.Core.Tests.Toml;

public class TomlParserTests
{
    [Fact]
    public void Parses_every_kind_of_value_with_positions()
    {
        var doc = TomlParser.Parse("""
            title = "duckton"
            [scheduler]
            replicas = 0x10
            ratio = 6.5e-1
            peers = ['a:1', "b:2"]
            when = 1979-05-27T07:32:00.5-07:00
            local = { day = 1979-05-27, at = 07:32:00 }
            [[hosts]]
            name = "h1"
            [[hosts]]
            name = "h2"
            """, "inline.toml");
        Assert.Equal("duckton", ((TomlString)doc["title"]).Value);
        var scheduler = (TomlTable)doc["scheduler"];
        Assert.Equal(16, ((TomlInteger)scheduler["replicas"]).Value);
        Assert.Equal(new TomlPosition(3, 1), scheduler["replicas"].Position);
        Assert.Equal(0.65, ((TomlFloat)scheduler["ratio"]).Value);
        Assert.Equal(["a:1", "b:2"], ((TomlArray)scheduler["peers"]).Select(v => ((TomlString)v).Value));
        var when = (TomlDateTime)scheduler["when"];
        Assert.Equal(TomlValueKind.OffsetDateTime, when.Kind);
        Assert.Equal(new DateTimeOffset(1979, 5, 27, 7, 32, 0, 500, TimeSpan.FromHours(-7)), when.ToDateTimeOffset());
        Assert.Equal("1979-05-27T07:32:00.5-07:00", when.ToString());
        var local = (TomlTable)scheduler["local"];
        Assert.True(local.IsInline);
        Assert.Equal(TomlValueKind.LocalDate, local["day"].Kind);
        Assert.Equal(TomlValueKind.LocalTime, local["at"].Kind);
        var hosts = (TomlArray)doc["hosts"];
        Assert.True(hosts.IsArrayOfTables);
        Assert.Equal("h2", ((TomlString)((TomlTable)hosts[1])["name"]).Value);
    }

    [Fact]
    public void Duplicate_keys_report_both_places()
    {
        var error = Assert.Throws<TomlException>(() => TomlParser.Parse("a = 1\nb = 2\n  a = 3\n", "dup.toml"));
        Assert.Equal("dup.toml:3:3: duplicate key 'a' (first defined at 1:1)", error.Message);
        Assert.Equal(new TomlPosition(3, 3), error.Position);
        Assert.Equal("duplicate key 'a' (first defined at 1:1)", error.Problem);
    }

    [Fact]
    public void Columns_count_characters_not_bytes()
    {
        var error = Assert.Throws<TomlException>(() => TomlParser.Parse("k = \"ü€😀\" x"));
        Assert.Equal(new TomlPosition(1, 11), error.Position); // k,space,=,space,",ü,€,😀,",space → x is the 11th character
    }

    [Fact]
    public void Invalid_UTF8_is_located()
    {
        var bytes = Encoding.UTF8.GetBytes("a = 1\nb = \"x").Concat(new byte[] { 0xC3, 0x28, (byte)'"' }).ToArray();
        var error = Assert.Throws<TomlException>(() => TomlParser.Parse(bytes, "bad.toml"));
        Assert.Equal(new TomlPosition(2, 7), error.Position);
        Assert.Contains("invalid UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lone_surrogates_in_strings_are_rejected() =>
        Assert.Throws<TomlException>(() => TomlParser.Parse("k = \"\uD800\""));

    [Fact]
    public void A_leading_byte_order_mark_is_ignored_once()
    {
        Assert.Equal(1, ((TomlInteger)TomlParser.Parse("\uFEFFa = 1")["a"]).Value);
        Assert.Throws<TomlException>(() => TomlParser.Parse("\uFEFF\uFEFFa = 1"));
    }

    [Fact]
    public void Deep_nesting_is_refused_instead_of_overflowing_the_stack()
    {
        var deep = "a = " + new string('[', 10_000) + new string(']', 10_000);
        var error = Assert.Throws<TomlException>(() => TomlParser.Parse(deep));
        Assert.Contains("nested more than 128", error.Message, StringComparison.Ordinal);
        Assert.NotNull(TomlParser.Parse("a = " + new string('[', 128) + new string(']', 128)));
    }

    [Fact]
    public void Leap_seconds_and_nanoseconds_are_kept()
    {
        var t = (TomlDateTime)TomlParser.Parse("t = 2016-12-31T23:59:60.123456789Z")["t"];
        Assert.Equal(60, t.Second);
        Assert.Equal(123_456_789, t.Nanosecond);
        Assert.Equal("2016-12-31T23:59:60.123456789Z", t.ToString());
        Assert.Equal(new DateTimeOffset(2017, 1, 1, 0, 0, 0, TimeSpan.Zero).AddTicks(1_234_567), t.ToDateTimeOffset());
    }

    [Fact]
    public void ParseFile_names_the_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"duckton-toml-{Guid.NewGuid():N}.toml");
        File.WriteAllText(path, "a = \n");
        try
        {
            var error = Assert.Throws<TomlException>(() => TomlParser.ParseFile(path));
            Assert.StartsWith(path + ":1:5: expected a value", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Writer_escapes_and_quotes_what_needs_it()
    {
        var doc = new TomlTable();
        doc.Set("plain", new TomlString("tab\there \"quoted\" \\ \u0001 \u007F é"));
        doc.Set("needs quoting", new TomlFloat(1e300));
        doc.Set("", new TomlFloat(2));
        doc.Set("nan", new TomlFloat(double.NaN));
        var sub = new TomlTable();
        sub.Set("when", TomlDateTime.LocalDate(2024, 2, 29));
        doc.Set("a.b", sub);
        var text = TomlWriter.Write(doc);
        Assert.Equal(
            "plain = \"tab\\there \\\"quoted\\\" \\\\ \\u0001 \\u007F é\"\n\"needs quoting\" = 1E+300\n\"\" = 2.0\nnan = nan\n\n[\"a.b\"]\nwhen = 2024-02-29\n",
            text);
        Assert.Equal(text, TomlWriter.Write(TomlParser.Parse(text)));
    }

    public static TheoryData<string> ValidCases() => TomlTestSuite.ValidCases();

    [Theory]
    [MemberData(nameof(ValidCases))]
    public void Writer_output_parses_back_to_the_same_document(string file)
    {
        var root = Path.Combine(AppContext.BaseDirectory, "TestData", "toml-test", "tests");
        var original = TomlParser.Parse(File.ReadAllBytes(Path.Combine(root, file)), file);
        var written = TomlWriter.Write(original);
        var reparsed = TomlParser.Parse(written, file + " (rewritten)");
        using var expected = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(root, Path.ChangeExtension(file, ".json"))));
        TaggedJson.AssertMatches(expected.RootElement, reparsed, "");
    }
}
