using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Duckton.Core.Data;

/// <summary>
/// Renders a value exactly as DuckDB 1.5's <c>CAST(x AS VARCHAR)</c> does (what the DuckDB CLI prints), with the session
/// time zone taken as UTC. NULL renders as <c>null</c>: the caller chooses how to show it.
/// </summary>
/// <remarks>
/// Each rule is a small method named after the DuckDB source it mirrors (DuckDB v1.5 <c>string_cast.cpp</c>,
/// <c>cast_helpers.hpp</c>, <c>list_casts.cpp</c>, <c>struct_cast.cpp</c>, <c>map_cast.cpp</c>, <c>array_casts.cpp</c>,
/// <c>union_casts.cpp</c>, <c>blob.cpp</c>, <c>bit.cpp</c>, <c>uuid.cpp</c>, <c>bignum.cpp</c>, fmt's <c>"{}"</c> for
/// floats), so a mismatch found against real DuckDB is fixed in one place. The expected strings in the tests were
/// produced by DuckDB v1.5.6 itself.
/// </remarks>
public static class ValueFormatter
{
    private const long MicrosPerSecond = 1_000_000;
    private const long MicrosPerMinute = 60 * MicrosPerSecond;
    private const long MicrosPerHour = 60 * MicrosPerMinute;
    private const long MicrosPerDay = 24 * MicrosPerHour;
    private const long NanosPerMicro = 1000;

    // DuckDB's infinity sentinels: date_t::infinity() and timestamp_t::infinity() and their negations.
    private const int DateInfinity = int.MaxValue;
    private const long TimestampInfinity = long.MaxValue;

    /// <summary>The text of row <paramref name="row"/>, or null when the value is NULL.</summary>
    public static string? Format(ColumnVector vector, int row)
    {
        ArgumentNullException.ThrowIfNull(vector);
        if (IsNull(vector, row))
        {
            return null;
        }
        var sb = new StringBuilder();
        AppendValid(sb, vector, row);
        return sb.ToString();
    }

    /// <summary>Appends the text of row <paramref name="row"/>; returns false (appending nothing) when it is NULL.</summary>
    public static bool TryAppend(StringBuilder sb, ColumnVector vector, int row)
    {
        ArgumentNullException.ThrowIfNull(sb);
        ArgumentNullException.ThrowIfNull(vector);
        if (IsNull(vector, row))
        {
            return false;
        }
        AppendValid(sb, vector, row);
        return true;
    }

    /// <summary>True when the value is NULL (a UNION is also NULL when its tag is).</summary>
    public static bool IsNull(ColumnVector vector, int row)
    {
        ArgumentNullException.ThrowIfNull(vector);
        return !vector.IsValid(row) || (vector.Type.Id == DuckTypeId.Union && !vector.Children[0].IsValid(row));
    }

    private static void AppendValid(StringBuilder sb, ColumnVector v, int row)
    {
        var type = v.Type;
        switch (type.Id)
        {
            case DuckTypeId.Boolean:
                sb.Append(v.Fixed[row] != 0 ? "true" : "false");
                break;
            case DuckTypeId.TinyInt:
                sb.Append((sbyte)v.Fixed[row]);
                break;
            case DuckTypeId.UTinyInt:
                sb.Append(v.Fixed[row]);
                break;
            case DuckTypeId.SmallInt:
                sb.Append(BinaryPrimitives.ReadInt16LittleEndian(v.GetFixed(row)));
                break;
            case DuckTypeId.USmallInt:
                sb.Append(BinaryPrimitives.ReadUInt16LittleEndian(v.GetFixed(row)));
                break;
            case DuckTypeId.Integer:
                sb.Append(BinaryPrimitives.ReadInt32LittleEndian(v.GetFixed(row)));
                break;
            case DuckTypeId.UInteger:
                sb.Append(BinaryPrimitives.ReadUInt32LittleEndian(v.GetFixed(row)));
                break;
            case DuckTypeId.BigInt:
                sb.Append(BinaryPrimitives.ReadInt64LittleEndian(v.GetFixed(row)));
                break;
            case DuckTypeId.UBigInt:
                sb.Append(BinaryPrimitives.ReadUInt64LittleEndian(v.GetFixed(row)));
                break;
            case DuckTypeId.HugeInt:
                sb.Append(BinaryPrimitives.ReadInt128LittleEndian(v.GetFixed(row)).ToString(CultureInfo.InvariantCulture));
                break;
            case DuckTypeId.UHugeInt:
                sb.Append(BinaryPrimitives.ReadUInt128LittleEndian(v.GetFixed(row)).ToString(CultureInfo.InvariantCulture));
                break;
            case DuckTypeId.Float:
                AppendFloating(sb, BinaryPrimitives.ReadSingleLittleEndian(v.GetFixed(row)), single: true);
                break;
            case DuckTypeId.Double:
                AppendFloating(sb, BinaryPrimitives.ReadDoubleLittleEndian(v.GetFixed(row)), single: false);
                break;
            case DuckTypeId.Decimal:
                AppendDecimal(sb, ReadDecimal(v, row), type.Width, type.Scale, leadingZero: false);
                break;
            case DuckTypeId.Date:
                AppendDate(sb, BinaryPrimitives.ReadInt32LittleEndian(v.GetFixed(row)));
                break;
            case DuckTypeId.Time:
                AppendTimeOfDay(sb, BinaryPrimitives.ReadInt64LittleEndian(v.GetFixed(row)), 0);
                break;
            case DuckTypeId.TimeNs:
            {
                var nanos = BinaryPrimitives.ReadInt64LittleEndian(v.GetFixed(row));
                AppendTimeOfDay(sb, nanos / NanosPerMicro, (int)(nanos % NanosPerMicro));
                break;
            }
            case DuckTypeId.TimeTz:
                AppendTimeTz(sb, BinaryPrimitives.ReadUInt64LittleEndian(v.GetFixed(row)));
                break;
            case DuckTypeId.Timestamp:
                AppendTimestamp(sb, BinaryPrimitives.ReadInt64LittleEndian(v.GetFixed(row)), TimestampUnit.Micros);
                break;
            case DuckTypeId.TimestampS:
                AppendTimestamp(sb, BinaryPrimitives.ReadInt64LittleEndian(v.GetFixed(row)), TimestampUnit.Seconds);
                break;
            case DuckTypeId.TimestampMs:
                AppendTimestamp(sb, BinaryPrimitives.ReadInt64LittleEndian(v.GetFixed(row)), TimestampUnit.Millis);
                break;
            case DuckTypeId.TimestampNs:
                AppendTimestamp(sb, BinaryPrimitives.ReadInt64LittleEndian(v.GetFixed(row)), TimestampUnit.Nanos);
                break;
            case DuckTypeId.TimestampTz:
                // With the session time zone UTC, DuckDB (ICU) prints the UTC wall time and "+00".
                if (AppendTimestamp(sb, BinaryPrimitives.ReadInt64LittleEndian(v.GetFixed(row)), TimestampUnit.Micros))
                {
                    sb.Append("+00");
                }
                break;
            case DuckTypeId.Interval:
            {
                var raw = v.GetFixed(row);
                AppendInterval(sb, BinaryPrimitives.ReadInt32LittleEndian(raw), BinaryPrimitives.ReadInt32LittleEndian(raw[4..]),
                    BinaryPrimitives.ReadInt64LittleEndian(raw[8..]));
                break;
            }
            case DuckTypeId.Uuid:
                AppendUuid(sb, v.GetFixed(row));
                break;
            case DuckTypeId.Enum:
                sb.Append(type.EnumValues[checked((int)ReadEnumIndex(v, row))]);
                break;
            case DuckTypeId.Varchar:
                sb.Append(Encoding.UTF8.GetString(v.GetBytes(row)));
                break;
            case DuckTypeId.Blob:
                AppendBlob(sb, v.GetBytes(row));
                break;
            case DuckTypeId.Bit:
                AppendBit(sb, v.GetBytes(row));
                break;
            case DuckTypeId.BigNum:
                AppendBigNum(sb, v.GetBytes(row));
                break;
            case DuckTypeId.Geometry:
                Wkb.AppendWkt(sb, v.GetBytes(row));
                break;
            case DuckTypeId.List:
                AppendList(sb, v, row);
                break;
            case DuckTypeId.Array:
                AppendArray(sb, v, row);
                break;
            case DuckTypeId.Struct:
                AppendStruct(sb, v, row);
                break;
            case DuckTypeId.Map:
                AppendMap(sb, v, row);
                break;
            case DuckTypeId.Union:
                AppendUnion(sb, v, row);
                break;
            case DuckTypeId.SqlNull or DuckTypeId.Any:
                // These types hold no values (width 0); a slot marked valid has nothing to show but NULL.
                sb.Append("NULL");
                break;
            default:
                throw new ArgumentException($"cannot render values of type {type}", nameof(v));
        }
    }

    // ------------------------------------------------------------------ numbers

    /// <summary>DuckDB's text of a DOUBLE (fmt <c>"{}"</c>: shortest round-trip digits, exponent form outside 1e-5..1e16).</summary>
    public static string FormatDouble(double value)
    {
        var sb = new StringBuilder(24);
        AppendFloating(sb, value, single: false);
        return sb.ToString();
    }

    /// <summary>DuckDB's text of a FLOAT (shortest digits that round-trip as a 32-bit float).</summary>
    public static string FormatFloat(float value)
    {
        var sb = new StringBuilder(16);
        AppendFloating(sb, value, single: true);
        return sb.ToString();
    }

    /// <summary>
    /// fmt's general format with no precision, as DuckDB calls it: "nan"/"inf" (with '-' when the sign bit is set, even
    /// for NaN), else the shortest round-trip digits laid out as fixed notation with at least one fractional digit
    /// (<c>1.0</c>, <c>0.001</c>) when the decimal exponent is in [-4, 16), otherwise <c>d[.ddd]e±XX</c> (<c>1e+16</c>, <c>1e-05</c>).
    /// </summary>
    private static void AppendFloating(StringBuilder sb, double value, bool single)
    {
        if (double.IsNegative(value))
        {
            sb.Append('-');
            value = -value;
        }
        if (double.IsNaN(value))
        {
            sb.Append("nan");
            return;
        }
        if (double.IsInfinity(value))
        {
            sb.Append("inf");
            return;
        }

        Span<char> digits = stackalloc char[40];
        var count = ShortestDigits(value, single, digits, out var exp10);
        if (single && GrisuGivesUp((float)value, digits[..count], exp10))
        {
            // fmt's fallback for a float that Grisu cannot settle runs on the value promoted to double
            // (its "TODO: handle float"), so DuckDB prints e.g. 2175463.75f as "2175463.75", not "2175463.8".
            count = ShortestDigits(value, single: false, digits, out exp10);
        }

        var fullExp = count + exp10; // value < 10^fullExp
        var sciExp = fullExp - 1;
        if (sciExp < -4 || sciExp >= 16)
        {
            sb.Append(digits[0]);
            if (count > 1)
            {
                sb.Append('.').Append(digits[1..count]);
            }
            sb.Append('e').Append(sciExp < 0 ? '-' : '+');
            var abs = Math.Abs(sciExp);
            if (abs < 10)
            {
                sb.Append('0');
            }
            sb.Append(abs);
        }
        else if (count <= fullExp)
        {
            sb.Append(digits[..count]).Append('0', fullExp - count).Append(".0");
        }
        else if (fullExp > 0)
        {
            sb.Append(digits[..fullExp]).Append('.').Append(digits[fullExp..count]);
        }
        else
        {
            sb.Append("0.").Append('0', -fullExp).Append(digits[..count]);
        }
    }

    /// <summary>
    /// The shortest digits that round-trip (.NET's "R", the same digits fmt's Grisu/Dragon4 find), without leading or
    /// trailing zeros: value = digits × 10^<paramref name="exp10"/>. Returns the digit count.
    /// </summary>
    private static int ShortestDigits(double value, bool single, Span<char> digits, out int exp10)
    {
        Span<char> text = stackalloc char[40];
        var ok = single
            ? ((float)value).TryFormat(text, out var written, "R", CultureInfo.InvariantCulture)
            : value.TryFormat(text, out written, "R", CultureInfo.InvariantCulture);
        if (!ok)
        {
            throw new InvalidOperationException("floating-point text did not fit its buffer");
        }
        var mantissa = text[..written];
        var exponent = 0;
        var e = mantissa.IndexOfAny('E', 'e');
        if (e >= 0)
        {
            exponent = int.Parse(mantissa[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            mantissa = mantissa[..e];
        }

        // Every fractional digit lowers the exponent by one; leading zeros change nothing.
        var dot = mantissa.IndexOf('.');
        var integerPart = dot < 0 ? mantissa : mantissa[..dot];
        var fractionPart = dot < 0 ? [] : mantissa[(dot + 1)..];
        exp10 = exponent - fractionPart.Length;
        var count = 0;
        foreach (var c in integerPart)
        {
            if (count > 0 || c != '0')
            {
                digits[count++] = c;
            }
        }
        foreach (var c in fractionPart)
        {
            if (count > 0 || c != '0')
            {
                digits[count++] = c;
            }
        }
        while (count > 1 && digits[count - 1] == '0')
        {
            count--;
            exp10++;
        }
        if (count == 0)
        {
            digits[0] = '0';
            exp10 = 0;
            return 1;
        }
        return count;
    }

    /// <summary>
    /// True where fmt's Grisu cannot prove the shortest digits of a float and falls back. Grisu looks for the fewest
    /// digits inside the open rounding interval; it gives up when (a) a decimal with no more digits than the answer
    /// lies exactly on a rounding boundary (so it cannot tell in or out), or (b) the value lies exactly halfway between
    /// two shortest candidates that both round-trip. Decided in exact integer arithmetic.
    /// </summary>
    private static bool GrisuGivesUp(float value, ReadOnlySpan<char> digits, int exp10)
    {
        if (value == 0)
        {
            return false;
        }
        var bits = BitConverter.SingleToUInt32Bits(value) & 0x7FFF_FFFF;
        var biased = (int)(bits >> 23);
        var fraction = bits & 0x7F_FFFF;
        BigInteger significand = biased == 0 ? fraction : fraction | 0x80_0000;
        var exp2 = (biased == 0 ? 1 : biased) - 150; // value = significand × 2^exp2
        var closerBelow = fraction == 0 && biased > 1;

        // Boundaries halfway to the neighbours, as odd × 2^e.
        var (upperOdd, upperExp) = ((2 * significand) + 1, exp2 - 1);
        var (lowerOdd, lowerExp) = closerBelow ? ((4 * significand) - 1, exp2 - 2) : ((2 * significand) - 1, exp2 - 1);

        // (a) A boundary whose exact decimal has no more significant digits than the answer.
        var answerDigits = digits.Length;
        var answer = BigInteger.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        foreach (var (odd, e2) in new[] { (upperOdd, upperExp), (lowerOdd, lowerExp) })
        {
            var (boundaryDigits, boundaryExp10) = ExactDecimal(odd, e2);
            var count = boundaryDigits.IsZero ? 1 : (int)Math.Floor(BigInteger.Log10(boundaryDigits)) + 1;
            if (count > 0 && BigInteger.Pow(10, count - 1) > boundaryDigits)
            {
                count--; // Log10 rounding near powers of ten
            }
            if (count < answerDigits || (count == answerDigits && boundaryDigits == answer && boundaryExp10 == exp10))
            {
                return true;
            }
        }

        // (b) Scale by 2^-min2 × 10^-min10 so the value, its boundaries and the candidates are integers.
        var min2 = Math.Min(lowerExp, 0);
        var min10 = Math.Min(exp10, 0);
        var scale = BigInteger.Pow(10, -min10);
        BigInteger Binary(BigInteger m, int e2) => (m << (e2 - min2)) * scale;
        var v = Binary(significand, exp2);
        var upper = Binary(upperOdd, upperExp);
        var lower = Binary(lowerOdd, lowerExp);
        var unit = BigInteger.Pow(10, exp10 - min10) << -min2;
        var candidate = answer * unit;
        if (2 * BigInteger.Abs(candidate - v) != unit)
        {
            return false;
        }
        var other = candidate > v ? candidate - unit : candidate + unit;
        return other >= lower && other <= upper;
    }

    /// <summary>odd × 2^exp2 as digits × 10^exp10 with no trailing zeros in digits (exact: every binary fraction is a finite decimal).</summary>
    private static (BigInteger Digits, int Exp10) ExactDecimal(BigInteger odd, int exp2)
    {
        BigInteger digits;
        var exp10 = 0;
        if (exp2 >= 0)
        {
            digits = odd << exp2;
        }
        else
        {
            digits = odd * BigInteger.Pow(5, -exp2); // odd / 2^k = odd × 5^k / 10^k
            exp10 = exp2;
        }
        while (!digits.IsZero && digits % 10 == 0)
        {
            digits /= 10;
            exp10++;
        }
        return (digits, exp10);
    }

    /// <summary>DuckDB's text of a DECIMAL(width, scale) with unscaled value <paramref name="unscaled"/>, e.g. <c>123.450</c>.</summary>
    public static string FormatDecimal(Int128 unscaled, byte width, byte scale)
    {
        var sb = new StringBuilder(42);
        AppendDecimal(sb, unscaled, width, scale, leadingZero: false);
        return sb.ToString();
    }

    /// <summary>
    /// DecimalToString: sign, integer part, '.', exactly <c>scale</c> digits. When width == scale DuckDB writes no
    /// integer digit at all (<c>.123</c>); <paramref name="leadingZero"/> adds the "0" JSON needs.
    /// </summary>
    internal static void AppendDecimal(StringBuilder sb, Int128 unscaled, byte width, byte scale, bool leadingZero)
    {
        // The magnitude as unsigned, so even Int128.MinValue (not a valid decimal, but representable) cannot overflow.
        var negative = unscaled < 0;
        var magnitude = negative ? (UInt128)(-(unscaled + 1)) + 1 : (UInt128)unscaled;
        if (negative)
        {
            sb.Append('-');
        }
        if (scale == 0)
        {
            sb.Append(magnitude.ToString(CultureInfo.InvariantCulture));
            return;
        }
        var pow = UInt128Pow10(scale);
        var major = magnitude / pow;
        var minor = magnitude % pow;
        if (width > scale || major != 0 || leadingZero)
        {
            sb.Append(major.ToString(CultureInfo.InvariantCulture));
        }
        sb.Append('.').Append(minor.ToString("D" + scale.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
    }

    private static UInt128 UInt128Pow10(int exponent)
    {
        UInt128 result = 1;
        for (var i = 0; i < exponent; i++)
        {
            result *= 10;
        }
        return result;
    }

    internal static Int128 ReadDecimal(ColumnVector v, int row)
    {
        var raw = v.GetFixed(row);
        return raw.Length switch
        {
            2 => BinaryPrimitives.ReadInt16LittleEndian(raw),
            4 => BinaryPrimitives.ReadInt32LittleEndian(raw),
            8 => BinaryPrimitives.ReadInt64LittleEndian(raw),
            _ => BinaryPrimitives.ReadInt128LittleEndian(raw),
        };
    }

    internal static uint ReadEnumIndex(ColumnVector v, int row)
    {
        var raw = v.GetFixed(row);
        return raw.Length switch
        {
            1 => raw[0],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(raw),
            _ => BinaryPrimitives.ReadUInt32LittleEndian(raw),
        };
    }

    /// <summary>BIGNUM: 3 header bytes (MSB of the first set for non-negative), then the big-endian magnitude, bit-inverted when negative.</summary>
    private static void AppendBigNum(StringBuilder sb, ReadOnlySpan<byte> raw)
    {
        if (raw.Length < 4)
        {
            throw new ArgumentException("BIGNUM value shorter than its 4-byte minimum", nameof(raw));
        }
        var negative = (raw[0] & 0x80) == 0;
        var magnitude = raw[3..].ToArray();
        if (negative)
        {
            for (var i = 0; i < magnitude.Length; i++)
            {
                magnitude[i] = (byte)~magnitude[i];
            }
            sb.Append('-');
        }
        sb.Append(new BigInteger(magnitude, isUnsigned: true, isBigEndian: true).ToString(CultureInfo.InvariantCulture));
    }

    // ------------------------------------------------------------------ temporal

    /// <summary>DuckDB's text of a DATE (days since 1970-01-01): <c>yyyy-MM-dd</c>, years ≤ 0 as <c>(1 - year) ... (BC)</c>, or (-)infinity.</summary>
    public static string FormatDate(int days)
    {
        var sb = new StringBuilder(20);
        AppendDate(sb, days);
        return sb.ToString();
    }

    private static void AppendDate(StringBuilder sb, int days)
    {
        if (days == DateInfinity)
        {
            sb.Append("infinity");
            return;
        }
        if (days == -DateInfinity)
        {
            sb.Append("-infinity");
            return;
        }
        AppendCivilDate(sb, days);
    }

    /// <summary>DateToStringCast: year zero-padded to 4 digits, month, day; " (BC)" after the day for years ≤ 0.</summary>
    private static void AppendCivilDate(StringBuilder sb, long days)
    {
        var (year, month, day) = CivilFromDays(days);
        var bc = year <= 0;
        if (bc)
        {
            year = -year + 1;
        }
        sb.Append(year.ToString("D4", CultureInfo.InvariantCulture)).Append('-');
        AppendTwoDigits(sb, month);
        sb.Append('-');
        AppendTwoDigits(sb, day);
        if (bc)
        {
            sb.Append(" (BC)");
        }
    }

    /// <summary>Proleptic Gregorian calendar date of a day number (0 = 1970-01-01), year 0 being 1 BC.</summary>
    private static (long Year, int Month, int Day) CivilFromDays(long days)
    {
        // Counts in 400-year eras from 0000-03-01 so leap days fall at the end of each year.
        var z = days + 719_468;
        var era = (z >= 0 ? z : z - 146_096) / 146_097;
        var dayOfEra = z - (era * 146_097);
        var yearOfEra = (dayOfEra - (dayOfEra / 1460) + (dayOfEra / 36_524) - (dayOfEra / 146_096)) / 365;
        var dayOfYear = dayOfEra - ((365 * yearOfEra) + (yearOfEra / 4) - (yearOfEra / 100));
        var shiftedMonth = ((5 * dayOfYear) + 2) / 153;
        var day = (int)(dayOfYear - (((153 * shiftedMonth) + 2) / 5) + 1);
        var month = (int)(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9);
        var year = yearOfEra + (era * 400) + (month <= 2 ? 1 : 0);
        return (year, month, day);
    }

    /// <summary>DuckDB's text of a TIME (microseconds since midnight): <c>HH:mm:ss</c> and a fraction without trailing zeros.</summary>
    public static string FormatTime(long micros)
    {
        var sb = new StringBuilder(16);
        AppendTimeOfDay(sb, micros, 0);
        return sb.ToString();
    }

    /// <summary>DuckDB's text of a TIME_NS (nanoseconds since midnight).</summary>
    public static string FormatTimeNs(long nanos)
    {
        var sb = new StringBuilder(20);
        AppendTimeOfDay(sb, nanos / NanosPerMicro, (int)(nanos % NanosPerMicro));
        return sb.ToString();
    }

    /// <summary>
    /// TimeToStringCast: two-digit hour, minute, second; then '.', the 6 microsecond digits and, when there are
    /// nanoseconds, 3 more, with trailing zeros dropped. <c>24:00:00</c> stays as it is.
    /// </summary>
    private static void AppendTimeOfDay(StringBuilder sb, long micros, int nanos)
    {
        AppendTwoDigits(sb, micros / MicrosPerHour);
        sb.Append(':');
        AppendTwoDigits(sb, micros % MicrosPerHour / MicrosPerMinute);
        sb.Append(':');
        AppendTwoDigits(sb, micros % MicrosPerMinute / MicrosPerSecond);
        var fraction = micros % MicrosPerSecond;
        if (nanos != 0)
        {
            AppendFraction(sb, (fraction * NanosPerMicro) + nanos, 9);
        }
        else if (fraction != 0)
        {
            AppendFraction(sb, fraction, 6);
        }
    }

    /// <summary>'.' and <paramref name="value"/> as <paramref name="digits"/> zero-padded digits with trailing zeros removed.</summary>
    private static void AppendFraction(StringBuilder sb, long value, int digits)
    {
        Span<char> buffer = stackalloc char[digits];
        for (var i = digits - 1; i >= 0; i--)
        {
            buffer[i] = (char)('0' + (int)Math.Abs(value % 10));
            value /= 10;
        }
        var length = digits;
        while (length > 1 && buffer[length - 1] == '0')
        {
            length--;
        }
        sb.Append('.').Append(buffer[..length]);
    }

    private static void AppendTwoDigits(StringBuilder sb, long value)
    {
        if (value is >= 0 and < 10)
        {
            sb.Append('0');
        }
        sb.Append(value);
    }

    /// <summary>DuckDB's text of a TIME WITH TIME ZONE from its 64-bit storage, e.g. <c>12:34:56+02</c>.</summary>
    public static string FormatTimeTz(ulong bits)
    {
        var sb = new StringBuilder(24);
        AppendTimeTz(sb, bits);
        return sb.ToString();
    }

    /// <summary>
    /// dtime_tz_t: the upper 40 bits are microseconds since midnight, the lower 24 bits hold <c>57599 - offset</c>
    /// (offset in seconds east of UTC). StringCastTZ prints ±HH, then ":MM" when the minutes are non-zero and ":SS"
    /// when the seconds are (so +02:00:30 prints as "+02:30" — DuckDB's own quirk, kept).
    /// </summary>
    private static void AppendTimeTz(StringBuilder sb, ulong bits)
    {
        const int maxOffset = (16 * 60 * 60) - 1;
        var micros = (long)(bits >> 24);
        var offset = maxOffset - (int)(bits & 0xFF_FFFF);
        AppendTimeOfDay(sb, micros, 0);
        sb.Append(offset < 0 ? '-' : '+');
        var seconds = Math.Abs(offset);
        AppendTwoDigits(sb, seconds / 3600);
        seconds %= 3600;
        var minutes = seconds / 60;
        if (minutes != 0)
        {
            sb.Append(':');
            AppendTwoDigits(sb, minutes);
        }
        seconds %= 60;
        if (seconds != 0)
        {
            sb.Append(':');
            AppendTwoDigits(sb, seconds);
        }
    }

    /// <summary>The unit of a timestamp's 64-bit count since 1970-01-01 00:00:00 UTC.</summary>
    public enum TimestampUnit
    {
        Seconds,
        Millis,
        Micros,
        Nanos,
    }

    /// <summary>DuckDB's text of a TIMESTAMP of <paramref name="unit"/>: <c>yyyy-MM-dd HH:mm:ss[.fraction]</c> or (-)infinity.</summary>
    public static string FormatTimestamp(long value, TimestampUnit unit = TimestampUnit.Micros)
    {
        var sb = new StringBuilder(32);
        AppendTimestamp(sb, value, unit);
        return sb.ToString();
    }

    /// <summary>Appends a timestamp; returns false when it was an infinity (which takes no time zone suffix).</summary>
    private static bool AppendTimestamp(StringBuilder sb, long value, TimestampUnit unit)
    {
        if (value == TimestampInfinity)
        {
            sb.Append("infinity");
            return false;
        }
        if (value == -TimestampInfinity)
        {
            sb.Append("-infinity");
            return false;
        }
        var perDay = unit switch
        {
            TimestampUnit.Seconds => 86_400L,
            TimestampUnit.Millis => 86_400_000L,
            TimestampUnit.Micros => MicrosPerDay,
            _ => MicrosPerDay * NanosPerMicro,
        };
        // Floor division: times before 1970 belong to the earlier day.
        var days = Math.DivRem(value, perDay, out var rest);
        if (rest < 0)
        {
            days--;
            rest += perDay;
        }
        AppendCivilDate(sb, days);
        sb.Append(' ');
        switch (unit)
        {
            case TimestampUnit.Seconds:
                AppendTimeOfDay(sb, rest * MicrosPerSecond, 0);
                break;
            case TimestampUnit.Millis:
                AppendTimeOfDay(sb, rest * 1000, 0);
                break;
            case TimestampUnit.Micros:
                AppendTimeOfDay(sb, rest, 0);
                break;
            default:
                AppendTimeOfDay(sb, rest / NanosPerMicro, (int)(rest % NanosPerMicro));
                break;
        }
        return true;
    }

    /// <summary>DuckDB's text of an INTERVAL, e.g. <c>1 year 2 months 3 days 04:05:06.789</c>; the empty interval is <c>00:00:00</c>.</summary>
    public static string FormatInterval(int months, int days, long micros)
    {
        var sb = new StringBuilder(40);
        AppendInterval(sb, months, days, micros);
        return sb.ToString();
    }

    /// <summary>
    /// IntervalToStringCast: months split into years and months (truncating), each non-zero part as "N unit[s]"
    /// ("s" unless ±1), then the time as [-]HH:MM:SS[.ffffff] with the hours unbounded.
    /// </summary>
    private static void AppendInterval(StringBuilder sb, int months, int days, long micros)
    {
        var start = sb.Length;
        if (months != 0)
        {
            var years = months / 12;
            AppendIntervalPart(sb, start, years, " year");
            AppendIntervalPart(sb, start, months - (years * 12), " month");
        }
        AppendIntervalPart(sb, start, days, " day");
        if (micros != 0)
        {
            if (sb.Length != start)
            {
                sb.Append(' ');
            }
            // Work on the negative magnitude so long.MinValue needs no special case, as DuckDB does.
            if (micros < 0)
            {
                sb.Append('-');
            }
            else
            {
                micros = -micros;
            }
            var hours = -(micros / MicrosPerHour);
            micros += hours * MicrosPerHour;
            var minutes = -(micros / MicrosPerMinute);
            micros += minutes * MicrosPerMinute;
            var seconds = -(micros / MicrosPerSecond);
            micros += seconds * MicrosPerSecond;
            micros = -micros;
            AppendTwoDigits(sb, hours);
            sb.Append(':');
            AppendTwoDigits(sb, minutes);
            sb.Append(':');
            AppendTwoDigits(sb, seconds);
            if (micros != 0)
            {
                AppendFraction(sb, micros, 6);
            }
        }
        else if (sb.Length == start)
        {
            sb.Append("00:00:00");
        }
    }

    private static void AppendIntervalPart(StringBuilder sb, int start, int value, string unit)
    {
        if (value == 0)
        {
            return;
        }
        if (sb.Length != start)
        {
            sb.Append(' ');
        }
        sb.Append(value).Append(unit);
        if (value is not (1 or -1))
        {
            sb.Append('s');
        }
    }

    // ------------------------------------------------------------------ binary

    /// <summary>DuckDB's text of a UUID from its 16-byte storage (a hugeint whose top bit is flipped so UUIDs sort as unsigned).</summary>
    public static string FormatUuid(ReadOnlySpan<byte> storage)
    {
        var sb = new StringBuilder(36);
        AppendUuid(sb, storage);
        return sb.ToString();
    }

    private static void AppendUuid(StringBuilder sb, ReadOnlySpan<byte> storage)
    {
        var lower = BinaryPrimitives.ReadUInt64LittleEndian(storage);
        var upper = BinaryPrimitives.ReadUInt64LittleEndian(storage[8..]) ^ (1UL << 63);
        Span<char> hex = stackalloc char[32];
        upper.TryFormat(hex, out _, "x16", CultureInfo.InvariantCulture);
        lower.TryFormat(hex[16..], out _, "x16", CultureInfo.InvariantCulture);
        sb.Append(hex[..8]).Append('-').Append(hex[8..12]).Append('-').Append(hex[12..16]).Append('-')
            .Append(hex[16..20]).Append('-').Append(hex[20..]);
    }

    /// <summary>DuckDB's text of a BLOB: printable ASCII except <c>\ ' "</c> as is, every other byte as <c>\xAB</c> (upper-case hex).</summary>
    public static string FormatBlob(ReadOnlySpan<byte> value)
    {
        var sb = new StringBuilder(value.Length);
        AppendBlob(sb, value);
        return sb.ToString();
    }

    private static void AppendBlob(StringBuilder sb, ReadOnlySpan<byte> value)
    {
        const string hexDigits = "0123456789ABCDEF";
        foreach (var b in value)
        {
            if (b is >= 32 and <= 126 && b != '\\' && b != '\'' && b != '"')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append("\\x").Append(hexDigits[b >> 4]).Append(hexDigits[b & 15]);
            }
        }
    }

    /// <summary>DuckDB's text of a BIT string: its first byte counts the unused high bits of the second; then one '0'/'1' per bit.</summary>
    public static string FormatBit(ReadOnlySpan<byte> value)
    {
        var sb = new StringBuilder(value.Length * 8);
        AppendBit(sb, value);
        return sb.ToString();
    }

    private static void AppendBit(StringBuilder sb, ReadOnlySpan<byte> value)
    {
        if (value.Length < 2)
        {
            return;
        }
        for (var bit = Math.Min((int)value[0], 8); bit < 8; bit++)
        {
            sb.Append((value[1] & (1 << (7 - bit))) != 0 ? '1' : '0');
        }
        foreach (var b in value[2..])
        {
            for (var bit = 7; bit >= 0; bit--)
            {
                sb.Append((b & (1 << bit)) != 0 ? '1' : '0');
            }
        }
    }

    // ------------------------------------------------------------------ nested

    /// <summary>
    /// LIST: <c>[a, b, NULL]</c>. Children of non-nested types are quoted when they need it (<see cref="AppendNestedChild"/>);
    /// nested children are written as they are.
    /// </summary>
    private static void AppendList(StringBuilder sb, ColumnVector v, int row)
    {
        var (start, count) = v.GetListRange(row);
        var child = v.Children[0];
        sb.Append('[');
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }
            AppendNestedChild(sb, child, start + i, escape: true);
        }
        sb.Append(']');
    }

    /// <summary>ARRAY: like LIST, but DuckDB's ARRAY cast never quotes its elements (<c>['a,b']</c> prints as <c>[a,b]</c>).</summary>
    private static void AppendArray(StringBuilder sb, ColumnVector v, int row)
    {
        var size = (int)v.Type.ArraySize;
        var child = v.Children[0];
        sb.Append('[');
        for (var i = 0; i < size; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }
            AppendNestedChild(sb, child, (row * size) + i, escape: false);
        }
        sb.Append(']');
    }

    /// <summary>STRUCT: <c>{'name': value, ...}</c>; names are always quoted, values quoted when they need it.</summary>
    private static void AppendStruct(StringBuilder sb, ColumnVector v, int row)
    {
        var fields = v.Type.Fields;
        sb.Append('{');
        for (var f = 0; f < fields.Length; f++)
        {
            if (f > 0)
            {
                sb.Append(", ");
            }
            AppendQuoted(sb, fields[f].Name);
            sb.Append(": ");
            AppendNestedChild(sb, v.Children[f], row, escape: true);
        }
        sb.Append('}');
    }

    /// <summary>MAP: <c>{key=value, ...}</c>; a NULL entry prints NULL, a NULL key "invalid" (DuckDB's own words).</summary>
    private static void AppendMap(StringBuilder sb, ColumnVector v, int row)
    {
        var (start, count) = v.GetListRange(row);
        var entries = v.Children[0];
        var keys = entries.Children[0];
        var values = entries.Children[1];
        sb.Append('{');
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }
            var entry = start + i;
            if (!entries.IsValid(entry))
            {
                sb.Append("NULL");
                continue;
            }
            if (IsNull(keys, entry))
            {
                sb.Append("invalid");
                continue;
            }
            AppendNestedChild(sb, keys, entry, escape: true);
            sb.Append('=');
            AppendNestedChild(sb, values, entry, escape: true);
        }
        sb.Append('}');
    }

    /// <summary>UNION: the active member's text as is (unquoted), or NULL when that member is NULL.</summary>
    private static void AppendUnion(StringBuilder sb, ColumnVector v, int row)
    {
        var tag = v.Children[0].Fixed[row];
        AppendNestedChild(sb, v.Children[tag + 1], row, escape: false);
    }

    /// <summary>A value inside a nested value: NULL as <c>NULL</c>; a non-nested value quoted when needed if <paramref name="escape"/>.</summary>
    private static void AppendNestedChild(StringBuilder sb, ColumnVector child, int row, bool escape)
    {
        if (IsNull(child, row))
        {
            sb.Append("NULL");
            return;
        }
        if (!escape || IsNested(child.Type))
        {
            AppendValid(sb, child, row);
            return;
        }
        var start = sb.Length;
        AppendValid(sb, child, row);
        if (NeedsQuotes(sb, start))
        {
            var text = sb.ToString(start, sb.Length - start);
            sb.Length = start;
            AppendQuoted(sb, text);
        }
    }

    /// <summary>LogicalType::IsNested: STRUCT, UNION (a struct), LIST, MAP (a list) and ARRAY.</summary>
    private static bool IsNested(DuckType type) =>
        type.Id is DuckTypeId.List or DuckTypeId.Map or DuckTypeId.Array or DuckTypeId.Struct or DuckTypeId.Union;

    /// <summary>
    /// CalculateEscapedStringLength: a value is quoted when it is empty, starts with whitespace, ends with whitespace
    /// (if longer than one character), equals "null" in any case, or contains one of <c>" ' ( ) , : = [ ] { }</c>.
    /// </summary>
    private static bool NeedsQuotes(StringBuilder sb, int start)
    {
        var length = sb.Length - start;
        if (length == 0 || IsSpace(sb[start]) || (length >= 2 && IsSpace(sb[^1])))
        {
            return true;
        }
        if (length == 4 && (sb[start] | 0x20) == 'n' && (sb[start + 1] | 0x20) == 'u' && (sb[start + 2] | 0x20) == 'l'
            && (sb[start + 3] | 0x20) == 'l')
        {
            return true;
        }
        for (var i = start; i < sb.Length; i++)
        {
            if (sb[i] is '"' or '\'' or '(' or ')' or ',' or ':' or '=' or '[' or ']' or '{' or '}')
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>StringUtil::CharacterIsSpace.</summary>
    private static bool IsSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';

    /// <summary>WriteEscapedString: single quotes around, <c>'</c> and <c>\</c> preceded by a backslash.</summary>
    private static void AppendQuoted(StringBuilder sb, string text)
    {
        sb.Append('\'');
        foreach (var c in text)
        {
            if (c is '\'' or '\\')
            {
                sb.Append('\\');
            }
            sb.Append(c);
        }
        sb.Append('\'');
    }
}
