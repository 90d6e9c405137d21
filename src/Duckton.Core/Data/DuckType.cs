using System.Collections.Immutable;
using System.Text;

namespace Duckton.Core.Data;

/// <summary>A named child of a STRUCT or UNION type.</summary>
public sealed record DuckField(string Name, DuckType Type);

/// <summary>
/// A DuckDB logical type, complete enough to recreate it in another DuckDB instance
/// (decimal width/scale, enum dictionary, nested children, array size).
/// </summary>
/// <remarks>Immutable; structural equality so schemas from two hosts can be compared.</remarks>
public sealed class DuckType : IEquatable<DuckType>
{
    private DuckType(DuckTypeId id, byte width = 0, byte scale = 0, ImmutableArray<string> enumValues = default,
        ImmutableArray<DuckField> fields = default, DuckType? element = null, uint arraySize = 0)
    {
        Id = id;
        Width = width;
        Scale = scale;
        EnumValues = enumValues.IsDefault ? [] : enumValues;
        Fields = fields.IsDefault ? [] : fields;
        Element = element;
        ArraySize = arraySize;
    }

    public DuckTypeId Id { get; }
    /// <summary>DECIMAL precision (1..38).</summary>
    public byte Width { get; }
    /// <summary>DECIMAL scale.</summary>
    public byte Scale { get; }
    /// <summary>ENUM dictionary in declaration order.</summary>
    public ImmutableArray<string> EnumValues { get; }
    /// <summary>STRUCT fields or UNION members; MAP has two fields, <c>key</c> and <c>value</c>.</summary>
    public ImmutableArray<DuckField> Fields { get; }
    /// <summary>Element type of LIST and ARRAY.</summary>
    public DuckType? Element { get; }
    /// <summary>Fixed length of an ARRAY.</summary>
    public uint ArraySize { get; }

    private static readonly DuckType[] s_primitives = CreatePrimitives();

    private static DuckType[] CreatePrimitives()
    {
        var all = new DuckType[64];
        foreach (var id in System.Enum.GetValues<DuckTypeId>())
        {
            all[(int)id] = new DuckType(id);
        }
        return all;
    }

    /// <summary>A type without parameters (every id but DECIMAL, ENUM, LIST, STRUCT, MAP, ARRAY, UNION).</summary>
    public static DuckType Of(DuckTypeId id)
    {
        if (id is DuckTypeId.Decimal or DuckTypeId.Enum or DuckTypeId.List or DuckTypeId.Struct or DuckTypeId.Map
            or DuckTypeId.Array or DuckTypeId.Union)
        {
            throw new ArgumentException($"{id} needs parameters; use its factory method", nameof(id));
        }
        return s_primitives[(int)id];
    }

    public static DuckType Boolean => Of(DuckTypeId.Boolean);
    public static DuckType Integer => Of(DuckTypeId.Integer);
    public static DuckType BigInt => Of(DuckTypeId.BigInt);
    public static DuckType Double => Of(DuckTypeId.Double);
    public static DuckType Varchar => Of(DuckTypeId.Varchar);

    public static DuckType Decimal(byte width, byte scale)
    {
        if (width is < 1 or > 38 || scale > width)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"DECIMAL({width},{scale}) is not a valid decimal type");
        }
        return new DuckType(DuckTypeId.Decimal, width, scale);
    }

    public static DuckType Enum(IEnumerable<string> values) => new(DuckTypeId.Enum, enumValues: [.. values]);
    public static DuckType List(DuckType element) => new(DuckTypeId.List, element: element);
    public static DuckType Array(DuckType element, uint size) => new(DuckTypeId.Array, element: element, arraySize: size);
    public static DuckType Struct(IEnumerable<DuckField> fields) => new(DuckTypeId.Struct, fields: [.. fields]);
    public static DuckType Union(IEnumerable<DuckField> members) => new(DuckTypeId.Union, fields: [.. members]);

    public static DuckType Map(DuckType key, DuckType value) =>
        new(DuckTypeId.Map, fields: [new DuckField("key", key), new DuckField("value", value)]);

    /// <summary>The physical storage of an ENUM index: 1, 2 or 4 bytes by dictionary size, as DuckDB chooses.</summary>
    public int EnumIndexWidth => EnumValues.Length <= byte.MaxValue ? 1 : EnumValues.Length <= ushort.MaxValue ? 2 : 4;

    /// <summary>The physical storage of a DECIMAL: 2, 4, 8 or 16 bytes by width, as DuckDB chooses.</summary>
    public int DecimalStorageWidth => Width <= 4 ? 2 : Width <= 9 ? 4 : Width <= 18 ? 8 : 16;

    /// <summary>Bytes per value for fixed-width types, 0 for variable-size and nested types.</summary>
    public int FixedWidth => Id switch
    {
        DuckTypeId.Boolean or DuckTypeId.TinyInt or DuckTypeId.UTinyInt => 1,
        DuckTypeId.SmallInt or DuckTypeId.USmallInt => 2,
        DuckTypeId.Integer or DuckTypeId.UInteger or DuckTypeId.Float or DuckTypeId.Date => 4,
        DuckTypeId.BigInt or DuckTypeId.UBigInt or DuckTypeId.Double or DuckTypeId.Time or DuckTypeId.TimeNs
            or DuckTypeId.TimeTz or DuckTypeId.Timestamp or DuckTypeId.TimestampS or DuckTypeId.TimestampMs
            or DuckTypeId.TimestampNs or DuckTypeId.TimestampTz => 8,
        DuckTypeId.HugeInt or DuckTypeId.UHugeInt or DuckTypeId.Uuid or DuckTypeId.Interval => 16,
        DuckTypeId.Decimal => DecimalStorageWidth,
        DuckTypeId.Enum => EnumIndexWidth,
        _ => 0,
    };

    /// <summary>VARCHAR, BLOB, BIT and BIGNUM: values are byte strings.</summary>
    public bool IsByteString => Id is DuckTypeId.Varchar or DuckTypeId.Blob or DuckTypeId.Bit or DuckTypeId.BigNum or DuckTypeId.Geometry;

    public bool Equals(DuckType? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }
        if (other is null || other.Id != Id || other.Width != Width || other.Scale != Scale || other.ArraySize != ArraySize
            || !Equals(other.Element, Element) || other.EnumValues.Length != EnumValues.Length || other.Fields.Length != Fields.Length)
        {
            return false;
        }
        for (var i = 0; i < EnumValues.Length; i++)
        {
            if (!string.Equals(EnumValues[i], other.EnumValues[i], StringComparison.Ordinal))
            {
                return false;
            }
        }
        for (var i = 0; i < Fields.Length; i++)
        {
            if (!string.Equals(Fields[i].Name, other.Fields[i].Name, StringComparison.Ordinal) || !Fields[i].Type.Equals(other.Fields[i].Type))
            {
                return false;
            }
        }
        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as DuckType);

    public override int GetHashCode() => HashCode.Combine(Id, Width, Scale, ArraySize, Element, Fields.Length, EnumValues.Length);

    /// <summary>The type as DuckDB spells it, e.g. <c>STRUCT(a INTEGER, b VARCHAR[])</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        Append(sb);
        return sb.ToString();
    }

    private void Append(StringBuilder sb)
    {
        switch (Id)
        {
            case DuckTypeId.Decimal:
                sb.Append("DECIMAL(").Append(Width).Append(',').Append(Scale).Append(')');
                break;
            case DuckTypeId.Enum:
                sb.Append("ENUM(");
                for (var i = 0; i < EnumValues.Length; i++)
                {
                    sb.Append(i == 0 ? "'" : ", '").Append(EnumValues[i].Replace("'", "''", StringComparison.Ordinal)).Append('\'');
                }
                sb.Append(')');
                break;
            case DuckTypeId.List:
                Element!.Append(sb);
                sb.Append("[]");
                break;
            case DuckTypeId.Array:
                Element!.Append(sb);
                sb.Append('[').Append(ArraySize).Append(']');
                break;
            case DuckTypeId.Map:
                sb.Append("MAP(");
                Fields[0].Type.Append(sb);
                sb.Append(", ");
                Fields[1].Type.Append(sb);
                sb.Append(')');
                break;
            case DuckTypeId.Struct or DuckTypeId.Union:
                sb.Append(Id == DuckTypeId.Struct ? "STRUCT(" : "UNION(");
                for (var i = 0; i < Fields.Length; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(", ");
                    }
                    sb.Append(QuoteIdentifier(Fields[i].Name)).Append(' ');
                    Fields[i].Type.Append(sb);
                }
                sb.Append(')');
                break;
            default:
                sb.Append(SqlName(Id));
                break;
        }
    }

    private static string QuoteIdentifier(string name)
    {
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
            }
        }
        return name.Length == 0 || char.IsAsciiDigit(name[0]) ? "\"" + name + "\"" : name;
    }

    /// <summary>DuckDB's name for a parameterless type id.</summary>
    public static string SqlName(DuckTypeId id) => id switch
    {
        DuckTypeId.Boolean => "BOOLEAN",
        DuckTypeId.TinyInt => "TINYINT",
        DuckTypeId.SmallInt => "SMALLINT",
        DuckTypeId.Integer => "INTEGER",
        DuckTypeId.BigInt => "BIGINT",
        DuckTypeId.UTinyInt => "UTINYINT",
        DuckTypeId.USmallInt => "USMALLINT",
        DuckTypeId.UInteger => "UINTEGER",
        DuckTypeId.UBigInt => "UBIGINT",
        DuckTypeId.Float => "FLOAT",
        DuckTypeId.Double => "DOUBLE",
        DuckTypeId.Timestamp => "TIMESTAMP",
        DuckTypeId.Date => "DATE",
        DuckTypeId.Time => "TIME",
        DuckTypeId.TimeNs => "TIME_NS",
        DuckTypeId.Interval => "INTERVAL",
        DuckTypeId.HugeInt => "HUGEINT",
        DuckTypeId.UHugeInt => "UHUGEINT",
        DuckTypeId.Varchar => "VARCHAR",
        DuckTypeId.Blob => "BLOB",
        DuckTypeId.TimestampS => "TIMESTAMP_S",
        DuckTypeId.TimestampMs => "TIMESTAMP_MS",
        DuckTypeId.TimestampNs => "TIMESTAMP_NS",
        DuckTypeId.Uuid => "UUID",
        DuckTypeId.Bit => "BIT",
        DuckTypeId.TimeTz => "TIME WITH TIME ZONE",
        DuckTypeId.TimestampTz => "TIMESTAMP WITH TIME ZONE",
        DuckTypeId.BigNum => "BIGNUM",
        DuckTypeId.SqlNull => "\"NULL\"",
        DuckTypeId.Geometry => "GEOMETRY",
        _ => id.ToString().ToUpperInvariant(),
    };
}
