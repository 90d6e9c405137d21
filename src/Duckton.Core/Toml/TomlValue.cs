using System.Collections;
using System.Globalization;
using System.Text;

namespace Duckton.Core.Toml;

/// <summary>The kind of a TOML value, one per type in TOML 1.0.0.</summary>
public enum TomlValueKind
{
    Table,
    Array,
    String,
    Integer,
    Float,
    Boolean,
    OffsetDateTime,
    LocalDateTime,
    LocalDate,
    LocalTime,
}

/// <summary>A 1-based line and column (in Unicode scalar values) inside a TOML document.</summary>
public readonly record struct TomlPosition(int Line, int Column)
{
    /// <summary>True when the value came from parsed text (values built in code have no position).</summary>
    public bool IsKnown => Line > 0;

    public override string ToString() => IsKnown ? $"{Line}:{Column}" : "?";
}

/// <summary>A value of a TOML document.</summary>
public abstract class TomlValue
{
    private protected TomlValue()
    {
    }

    public abstract TomlValueKind Kind { get; }

    /// <summary>Where the value starts in the parsed text; unknown for values built in code.</summary>
    public TomlPosition Position { get; internal set; }

    /// <summary>A short English name of the kind ("integer", "table", ...) for error messages.</summary>
    public string KindName => Describe(Kind);

    public static string Describe(TomlValueKind kind) => kind switch
    {
        TomlValueKind.Table => "table",
        TomlValueKind.Array => "array",
        TomlValueKind.String => "string",
        TomlValueKind.Integer => "integer",
        TomlValueKind.Float => "float",
        TomlValueKind.Boolean => "boolean",
        TomlValueKind.OffsetDateTime => "offset date-time",
        TomlValueKind.LocalDateTime => "local date-time",
        TomlValueKind.LocalDate => "local date",
        TomlValueKind.LocalTime => "local time",
        _ => kind.ToString(),
    };
}

/// <summary>A TOML string.</summary>
internal sealed class TomlString(string value) : TomlValue
{
    public override TomlValueKind Kind => TomlValueKind.String;
    public string Value { get; } = value ?? throw new ArgumentNullException(nameof(value));
    public override string ToString() => Value;
}

/// <summary>A TOML integer (signed 64-bit, as TOML 1.0 requires).</summary>
internal sealed class TomlInteger(long value) : TomlValue
{
    public override TomlValueKind Kind => TomlValueKind.Integer;
    public long Value { get; } = value;
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A TOML float (IEEE 754 binary64, including inf and nan).</summary>
internal sealed class TomlFloat(double value) : TomlValue
{
    public override TomlValueKind Kind => TomlValueKind.Float;
    public double Value { get; } = value;
    public override string ToString() => Value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>A TOML boolean.</summary>
internal sealed class TomlBoolean(bool value) : TomlValue
{
    public override TomlValueKind Kind => TomlValueKind.Boolean;
    public bool Value { get; } = value;
    public override string ToString() => Value ? "true" : "false";
}

/// <summary>
/// A TOML date, time or date-time. Fields are kept as written (not converted to <see cref="DateTime"/>)
/// so that nothing is lost: RFC 3339 allows a leap second (:60) and nanoseconds, which .NET types cannot hold.
/// </summary>
internal sealed class TomlDateTime : TomlValue
{
    private readonly TomlValueKind _kind;

    private TomlDateTime(TomlValueKind kind, int year, int month, int day, int hour, int minute, int second,
        int nanosecond, int? offsetMinutes)
    {
        _kind = kind;
        Year = year;
        Month = month;
        Day = day;
        Hour = hour;
        Minute = minute;
        Second = second;
        Nanosecond = nanosecond;
        OffsetMinutes = offsetMinutes;
    }

    public override TomlValueKind Kind => _kind;
    public bool HasDate => _kind != TomlValueKind.LocalTime;
    public bool HasTime => _kind != TomlValueKind.LocalDate;
    public int Year { get; }
    public int Month { get; }
    public int Day { get; }
    public int Hour { get; }
    public int Minute { get; }
    /// <summary>0..60 (60 only for a leap second).</summary>
    public int Second { get; }
    /// <summary>Fractional second in nanoseconds; digits beyond nanoseconds are truncated.</summary>
    public int Nanosecond { get; }
    /// <summary>Offset from UTC in minutes for offset date-times (0 for <c>Z</c>); null otherwise.</summary>
    public int? OffsetMinutes { get; }

    public static TomlDateTime OffsetDateTime(int year, int month, int day, int hour, int minute, int second, int nanosecond, int offsetMinutes)
        => Checked(TomlValueKind.OffsetDateTime, year, month, day, hour, minute, second, nanosecond, offsetMinutes);

    public static TomlDateTime LocalDateTime(int year, int month, int day, int hour, int minute, int second, int nanosecond = 0)
        => Checked(TomlValueKind.LocalDateTime, year, month, day, hour, minute, second, nanosecond, null);

    public static TomlDateTime LocalDate(int year, int month, int day)
        => Checked(TomlValueKind.LocalDate, year, month, day, 0, 0, 0, 0, null);

    public static TomlDateTime LocalTime(int hour, int minute, int second, int nanosecond = 0)
        => Checked(TomlValueKind.LocalTime, 0, 1, 1, hour, minute, second, nanosecond, null);

    private static TomlDateTime Checked(TomlValueKind kind, int year, int month, int day, int hour, int minute, int second,
        int nanosecond, int? offsetMinutes)
    {
        var problem = Validate(year, month, day, hour, minute, second, nanosecond, offsetMinutes);
        if (problem is not null)
        {
            throw new ArgumentOutOfRangeException(nameof(year), problem);
        }
        return new TomlDateTime(kind, year, month, day, hour, minute, second, nanosecond, offsetMinutes);
    }

    internal static TomlDateTime Unchecked(TomlValueKind kind, int year, int month, int day, int hour, int minute,
        int second, int nanosecond, int? offsetMinutes)
        => new(kind, year, month, day, hour, minute, second, nanosecond, offsetMinutes);

    /// <summary>Checks RFC 3339 ranges; returns what is wrong, or null.</summary>
    internal static string? Validate(int year, int month, int day, int hour, int minute, int second, int nanosecond, int? offsetMinutes)
    {
        if (year is < 0 or > 9999) return $"year {year} is outside 0000..9999";
        if (month is < 1 or > 12) return $"month {month:00} is outside 01..12";
        var days = DaysInMonth(year, month);
        if (day < 1 || day > days) return $"day {day:00} does not exist in {year:0000}-{month:00} (which has {days} days)";
        if (hour is < 0 or > 23) return $"hour {hour:00} is outside 00..23";
        if (minute is < 0 or > 59) return $"minute {minute:00} is outside 00..59";
        if (second is < 0 or > 60) return $"second {second:00} is outside 00..60";
        if (nanosecond is < 0 or > 999_999_999) return "fractional second out of range";
        if (offsetMinutes is { } off && (off <= -24 * 60 || off >= 24 * 60)) return "offset is outside -23:59..+23:59";
        return null;
    }

    internal static int DaysInMonth(int year, int month) => month switch
    {
        2 => (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28,
        4 or 6 or 9 or 11 => 30,
        _ => 31,
    };

    /// <summary>The instant of an offset date-time (a leap second maps to the following second).</summary>
    public DateTimeOffset ToDateTimeOffset()
    {
        if (_kind != TomlValueKind.OffsetDateTime)
        {
            throw new InvalidOperationException($"a {KindName} has no UTC offset");
        }
        var local = new DateTime(Year, Month, Day, Hour, Minute, Math.Min(Second, 59), DateTimeKind.Unspecified)
            .AddTicks(Nanosecond / 100).AddSeconds(Second == 60 ? 1 : 0);
        return new DateTimeOffset(local, TimeSpan.FromMinutes(OffsetMinutes!.Value));
    }

    /// <summary>RFC 3339 text: <c>T</c> separator, upper-case <c>Z</c>, fraction only when non-zero.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(35);
        var inv = CultureInfo.InvariantCulture;
        if (HasDate)
        {
            sb.Append(inv, $"{Year:0000}-{Month:00}-{Day:00}");
        }
        if (HasTime)
        {
            if (HasDate) sb.Append('T');
            sb.Append(inv, $"{Hour:00}:{Minute:00}:{Second:00}");
            if (Nanosecond != 0)
            {
                sb.Append('.').Append(Nanosecond.ToString("000000000", inv).TrimEnd('0'));
            }
        }
        if (OffsetMinutes is { } off)
        {
            if (off == 0)
            {
                sb.Append('Z');
            }
            else
            {
                var abs = Math.Abs(off);
                sb.Append(off < 0 ? '-' : '+').Append(inv, $"{abs / 60:00}:{abs % 60:00}");
            }
        }
        return sb.ToString();
    }
}

/// <summary>A TOML array; also the value of an array of tables (<c>[[name]]</c>).</summary>
internal sealed class TomlArray : TomlValue, IReadOnlyList<TomlValue>
{
    private readonly List<TomlValue> _items = [];

    public TomlArray()
    {
    }

    public TomlArray(IEnumerable<TomlValue> items) => _items.AddRange(items);

    public override TomlValueKind Kind => TomlValueKind.Array;

    /// <summary>True when created by <c>[[header]]</c> syntax (only such arrays may be appended by headers).</summary>
    public bool IsArrayOfTables { get; internal set; }

    public int Count => _items.Count;
    public TomlValue this[int index] => _items[index];

    public void Add(TomlValue item)
    {
        ArgumentNullException.ThrowIfNull(item);
        _items.Add(item);
    }

    public IEnumerator<TomlValue> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>A TOML table: keys in the order they were first defined.</summary>
internal sealed class TomlTable : TomlValue, IEnumerable<KeyValuePair<string, TomlValue>>
{
    private readonly Dictionary<string, TomlValue> _map = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    public override TomlValueKind Kind => TomlValueKind.Table;

    /// <summary>True for <c>{ ... }</c> tables (also used by the writer to choose the inline form).</summary>
    public bool IsInline { get; set; }

    // Parser bookkeeping: how the table came to exist decides what may still be added to it (TOML 1.0 §Table).
    internal TableOrigin Origin { get; set; } = TableOrigin.Header;
    internal bool Sealed { get; set; }

    public int Count => _order.Count;
    public IReadOnlyList<string> Keys => _order;
    public TomlValue this[string key] => _map[key];

    public bool ContainsKey(string key) => _map.ContainsKey(key);

    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out TomlValue value)
        => _map.TryGetValue(key, out value);

    /// <summary>Adds or replaces a key (replacement keeps the key's original position).</summary>
    public void Set(string key, TomlValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (_map.TryAdd(key, value))
        {
            _order.Add(key);
        }
        else
        {
            _map[key] = value;
        }
    }

    public bool Remove(string key)
    {
        if (!_map.Remove(key)) return false;
        _order.Remove(key);
        return true;
    }

    public IEnumerator<KeyValuePair<string, TomlValue>> GetEnumerator()
    {
        foreach (var key in _order)
        {
            yield return new KeyValuePair<string, TomlValue>(key, _map[key]);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>How a table was created, which decides whether it may be extended later.</summary>
internal enum TableOrigin
{
    /// <summary>Created as the parent of a header (<c>[a.b]</c> creates <c>a</c>); may be defined once later.</summary>
    Implicit,
    /// <summary>Defined by a <c>[header]</c> or <c>[[header]]</c>.</summary>
    Header,
    /// <summary>Created by a dotted key (<c>a.b = 1</c> creates <c>a</c>).</summary>
    Dotted,
    /// <summary>An inline table <c>{ ... }</c>.</summary>
    Inline,
}
