using System.Globalization;
using System.Text.Json;
using Duckton.Core.Toml;

namespace Duckton.Core.Tests.Toml;

/// <summary>
/// Runs the vendored toml-test conformance suite (TestData/toml-test, see its SOURCE and LICENSE):
/// every case named in tests/files-toml-1.0.0. Valid cases must parse to exactly the tagged JSON
/// expectation; invalid cases must be rejected with a <see cref="TomlException"/>.
/// </summary>
public class TomlTestSuite
{
    private static readonly string s_root = Path.Combine(AppContext.BaseDirectory, "TestData", "toml-test", "tests");

    private static IEnumerable<string> ListedFiles() =>
        File.ReadAllLines(Path.Combine(s_root, "files-toml-1.0.0")).Where(l => l.Length > 0);

    public static TheoryData<string> ValidCases()
    {
        var data = new TheoryData<string>();
        foreach (var file in ListedFiles().Where(f => f.StartsWith("valid/", StringComparison.Ordinal) && f.EndsWith(".toml", StringComparison.Ordinal)))
        {
            data.Add(file);
        }
        return data;
    }

    public static TheoryData<string> InvalidCases()
    {
        var data = new TheoryData<string>();
        foreach (var file in ListedFiles().Where(f => f.StartsWith("invalid/", StringComparison.Ordinal)))
        {
            data.Add(file);
        }
        return data;
    }

    [Fact]
    public void The_suite_has_every_TOML_1_0_0_case()
    {
        // 210 valid and 499 invalid documents in toml-test's TOML 1.0.0 list.
        Assert.Equal(210, ValidCases().Count);
        Assert.Equal(499, InvalidCases().Count);
    }

    [Theory]
    [MemberData(nameof(ValidCases))]
    public void Valid_document_parses_to_the_expected_values(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(s_root, file));
        var document = TomlParser.Parse(bytes, file);
        using var expected = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(s_root, Path.ChangeExtension(file, ".json"))));
        TaggedJson.AssertMatches(expected.RootElement, document, "");
    }

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void Invalid_document_is_rejected(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(s_root, file));
        var error = Assert.Throws<TomlException>(() => TomlParser.Parse(bytes, file));
        Assert.True(error.Position.Line >= 1, error.Message);
        Assert.StartsWith(file + ":", error.Message, StringComparison.Ordinal);
    }
}

/// <summary>Compares a parsed document with toml-test's tagged JSON ({"type": ..., "value": ...} leaves).</summary>
internal static class TaggedJson
{
    public static void AssertMatches(JsonElement expected, TomlValue actual, string path)
    {
        if (IsLeaf(expected))
        {
            AssertLeaf(expected.GetProperty("type").GetString()!, expected.GetProperty("value").GetString()!, actual, path);
            return;
        }
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                var table = Assert.IsType<TomlTable>(actual, exactMatch: true);
                var expectedKeys = expected.EnumerateObject().Select(p => p.Name).OrderBy(k => k, StringComparer.Ordinal).ToArray();
                var actualKeys = table.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
                Assert.True(expectedKeys.SequenceEqual(actualKeys),
                    $"{path}: keys differ: expected [{string.Join(", ", expectedKeys)}], got [{string.Join(", ", actualKeys)}]");
                foreach (var property in expected.EnumerateObject())
                {
                    AssertMatches(property.Value, table[property.Name], path + "." + property.Name);
                }
                break;
            case JsonValueKind.Array:
                var array = Assert.IsType<TomlArray>(actual, exactMatch: true);
                var items = expected.EnumerateArray().ToArray();
                Assert.True(items.Length == array.Count, $"{path}: expected {items.Length} elements, got {array.Count}");
                for (var i = 0; i < items.Length; i++)
                {
                    AssertMatches(items[i], array[i], $"{path}[{i}]");
                }
                break;
            default:
                Assert.Fail($"{path}: unexpected JSON {expected.ValueKind} in expectation");
                break;
        }
    }

    private static bool IsLeaf(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object
        && e.EnumerateObject().Count() == 2
        && e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String
        && e.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.String;

    private static void AssertLeaf(string type, string value, TomlValue actual, string path)
    {
        switch (type)
        {
            case "string":
                Assert.Equal(value, Assert.IsType<TomlString>(actual).Value);
                break;
            case "integer":
                Assert.Equal(long.Parse(value, CultureInfo.InvariantCulture), Assert.IsType<TomlInteger>(actual).Value);
                break;
            case "bool":
                Assert.Equal(value == "true", Assert.IsType<TomlBoolean>(actual).Value);
                break;
            case "float":
                var number = Assert.IsType<TomlFloat>(actual).Value;
                var expectedNumber = value switch
                {
                    "nan" or "+nan" or "-nan" => double.NaN,
                    "inf" or "+inf" => double.PositiveInfinity,
                    "-inf" => double.NegativeInfinity,
                    _ => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture),
                };
                Assert.True(double.IsNaN(expectedNumber) ? double.IsNaN(number) : expectedNumber.Equals(number),
                    $"{path}: expected float {value}, got {number.ToString("R", CultureInfo.InvariantCulture)}");
                break;
            case "datetime" or "datetime-local" or "date-local" or "time-local":
                var dt = Assert.IsType<TomlDateTime>(actual);
                var kind = type switch
                {
                    "datetime" => TomlValueKind.OffsetDateTime,
                    "datetime-local" => TomlValueKind.LocalDateTime,
                    "date-local" => TomlValueKind.LocalDate,
                    _ => TomlValueKind.LocalTime,
                };
                Assert.True(kind == dt.Kind, $"{path}: expected {type}, got {dt.KindName}");
                Assert.Equal(NormaliseDateTime(value), dt.ToString());
                break;
            default:
                Assert.Fail($"{path}: unknown tagged type '{type}'");
                break;
        }
    }

    /// <summary>toml-test's normal form: 'T' and 'Z' upper case, trailing zeros of the fraction dropped, +00:00 as Z.</summary>
    private static string NormaliseDateTime(string text)
    {
        var s = text.Replace('t', 'T').Replace('z', 'Z');
        if (s.Length > 10 && s[10] == ' ') s = s[..10] + "T" + s[11..];
        if (s.EndsWith("+00:00", StringComparison.Ordinal) || s.EndsWith("-00:00", StringComparison.Ordinal)) s = s[..^6] + "Z";
        var dot = s.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0) return s;
        var end = dot + 1;
        while (end < s.Length && char.IsAsciiDigit(s[end])) end++;
        var fraction = s[(dot + 1)..end].TrimEnd('0');
        return s[..dot] + (fraction.Length > 0 ? "." + fraction : "") + s[end..];
    }
}
