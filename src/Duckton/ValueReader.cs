using System.Buffers.Binary;
using System.Text;
using Duckton.Core.Data;

namespace Duckton;

/// <summary>
/// Turns DuckDB values into .NET values. Types with an exact .NET counterpart map to it; the rest (INTERVAL, TIMETZ,
/// MAP, UNION, BIT, BIGNUM, GEOMETRY, a DECIMAL wider than <see cref="decimal"/>, a date or timestamp outside .NET's
/// range, infinities) are DuckDB's own text, as <c>CAST(x AS VARCHAR)</c> prints it.
/// </summary>
internal static class ValueReader
{
    private static readonly DateTime s_epoch = DateTime.UnixEpoch;
    private const int EpochDayNumber = 719162; // DateOnly.DayNumber of 1970-01-01

    public static Type ClrType(DuckType type) => type.Id switch
    {
        DuckTypeId.Boolean => typeof(bool),
        DuckTypeId.TinyInt => typeof(sbyte),
        DuckTypeId.SmallInt => typeof(short),
        DuckTypeId.Integer => typeof(int),
        DuckTypeId.BigInt => typeof(long),
        DuckTypeId.UTinyInt => typeof(byte),
        DuckTypeId.USmallInt => typeof(ushort),
        DuckTypeId.UInteger => typeof(uint),
        DuckTypeId.UBigInt => typeof(ulong),
        DuckTypeId.HugeInt => typeof(Int128),
        DuckTypeId.UHugeInt => typeof(UInt128),
        DuckTypeId.Float => typeof(float),
        DuckTypeId.Double => typeof(double),
        DuckTypeId.Decimal when type.Width <= 28 => typeof(decimal),
        DuckTypeId.Date => typeof(DateOnly),
        DuckTypeId.Time or DuckTypeId.TimeNs => typeof(TimeOnly),
        DuckTypeId.Timestamp or DuckTypeId.TimestampS or DuckTypeId.TimestampMs or DuckTypeId.TimestampNs => typeof(DateTime),
        DuckTypeId.TimestampTz => typeof(DateTimeOffset),
        DuckTypeId.Uuid => typeof(Guid),
        DuckTypeId.Blob => typeof(byte[]),
        DuckTypeId.List or DuckTypeId.Array => typeof(object[]),
        DuckTypeId.Struct => typeof(IReadOnlyDictionary<string, object>),
        DuckTypeId.SqlNull => typeof(object),
        _ => typeof(string),
    };

    public static object? Read(ColumnVector v, int row)
    {
        if (ValueFormatter.IsNull(v, row))
        {
            return null;
        }
        var type = v.Type;
        switch (type.Id)
        {
            case DuckTypeId.Boolean: return v.Fixed[row] != 0;
            case DuckTypeId.TinyInt: return (sbyte)v.Fixed[row];
            case DuckTypeId.UTinyInt: return v.Fixed[row];
            case DuckTypeId.SmallInt: return BinaryPrimitives.ReadInt16LittleEndian(v.GetFixed(row));
            case DuckTypeId.USmallInt: return BinaryPrimitives.ReadUInt16LittleEndian(v.GetFixed(row));
            case DuckTypeId.Integer: return BinaryPrimitives.ReadInt32LittleEndian(v.GetFixed(row));
            case DuckTypeId.UInteger: return BinaryPrimitives.ReadUInt32LittleEndian(v.GetFixed(row));
            case DuckTypeId.BigInt: return BinaryPrimitives.ReadInt64LittleEndian(v.GetFixed(row));
            case DuckTypeId.UBigInt: return BinaryPrimitives.ReadUInt64LittleEndian(v.GetFixed(row));
            case DuckTypeId.HugeInt: return BinaryPrimitives.ReadInt128LittleEndian(v.GetFixed(row));
            case DuckTypeId.UHugeInt: return BinaryPrimitives.ReadUInt128LittleEndian(v.GetFixed(row));
            case DuckTypeId.Float: return BinaryPrimitives.ReadSingleLittleEndian(v.GetFixed(row));
            case DuckTypeId.Double: return BinaryPrimitives.ReadDoubleLittleEndian(v.GetFixed(row));
            case DuckTypeId.Decimal when type.Width <= 28: return ReadDecimal(v, row);
            case DuckTypeId.Date:
            {
                var days = BinaryPrimitives.ReadInt32LittleEndian(v.GetFixed(row));
                var number = (long)EpochDayNumber + days;
                return number is >= 0 and <= 3652058 ? DateOnly.FromDayNumber((int)number) : ValueFormatter.Format(v, row);
            }
            case DuckTypeId.Time: return new TimeOnly(BinaryPrimitives.ReadInt64LittleEndian(v.GetFixed(row)) * TimeSpan.TicksPerMicrosecond);
            case DuckTypeId.TimeNs: return new TimeOnly(BinaryPrimitives.ReadInt64LittleEndian(v.GetFixed(row)) / 100);
            case DuckTypeId.Timestamp: return Timestamp(v, row, TimeSpan.TicksPerMicrosecond, 1);
            case DuckTypeId.TimestampS: return Timestamp(v, row, TimeSpan.TicksPerSecond, 1);
            case DuckTypeId.TimestampMs: return Timestamp(v, row, TimeSpan.TicksPerMillisecond, 1);
            case DuckTypeId.TimestampNs: return Timestamp(v, row, 1, 100);
            case DuckTypeId.TimestampTz:
                return Timestamp(v, row, TimeSpan.TicksPerMicrosecond, 1) is DateTime utc ? new DateTimeOffset(utc, TimeSpan.Zero) : ValueFormatter.Format(v, row);
            case DuckTypeId.Uuid: return Guid.Parse(ValueFormatter.Format(v, row)!);
            case DuckTypeId.Varchar: return Encoding.UTF8.GetString(v.GetBytes(row));
            case DuckTypeId.Blob: return v.GetBytes(row).ToArray();
            case DuckTypeId.List:
            {
                var (start, count) = v.GetListRange(row);
                return Elements(v.Children[0], start, count);
            }
            case DuckTypeId.Array:
            {
                var size = (int)type.ArraySize;
                return Elements(v.Children[0], row * size, size);
            }
            case DuckTypeId.Struct:
            {
                var fields = new Dictionary<string, object?>(type.Fields.Length, StringComparer.Ordinal);
                for (var i = 0; i < type.Fields.Length; i++)
                {
                    fields[type.Fields[i].Name] = Read(v.Children[i], row);
                }
                return fields;
            }
            case DuckTypeId.SqlNull or DuckTypeId.Any: return null;
            default: return ValueFormatter.Format(v, row);
        }
    }

    private static object?[] Elements(ColumnVector child, int start, int count)
    {
        var items = new object?[count];
        for (var i = 0; i < count; i++)
        {
            items[i] = Read(child, start + i);
        }
        return items;
    }

    private static object? Timestamp(ColumnVector v, int row, long ticksPerUnit, long unitsPerTick)
    {
        var raw = BinaryPrimitives.ReadInt64LittleEndian(v.GetFixed(row));
        if (raw is long.MaxValue or -long.MaxValue)
        {
            return ValueFormatter.Format(v, row); // infinity / -infinity
        }
        var ticks = (Int128)raw * ticksPerUnit / unitsPerTick;
        var absolute = ticks + s_epoch.Ticks;
        if (absolute < DateTime.MinValue.Ticks || absolute > DateTime.MaxValue.Ticks)
        {
            return ValueFormatter.Format(v, row);
        }
        return new DateTime((long)absolute, DateTimeKind.Utc);
    }

    private static object ReadDecimal(ColumnVector v, int row)
    {
        var raw = v.GetFixed(row);
        Int128 value = v.Type.DecimalStorageWidth switch
        {
            2 => BinaryPrimitives.ReadInt16LittleEndian(raw),
            4 => BinaryPrimitives.ReadInt32LittleEndian(raw),
            8 => BinaryPrimitives.ReadInt64LittleEndian(raw),
            _ => BinaryPrimitives.ReadInt128LittleEndian(raw),
        };
        var negative = value < 0;
        var magnitude = (UInt128)(negative ? -value : value);
        if (magnitude >> 96 != 0)
        {
            return ValueFormatter.Format(v, row)!;
        }
        return new decimal((int)(uint)magnitude, (int)(uint)(magnitude >> 32), (int)(uint)(magnitude >> 64), negative, v.Type.Scale);
    }
}
