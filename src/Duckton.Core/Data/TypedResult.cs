using System.Text;

namespace Duckton.Core.Data;

/// <summary>
/// Builds a typed <see cref="ResultSet"/> row by row from plain .NET values, for admin tables whose columns are numbers,
/// booleans, timestamps or lists (so SQL compares them as such, not as text). Supported column types and the values
/// they take (null is NULL): VARCHAR <c>string</c>; BIGINT <c>long</c>; UBIGINT <c>ulong</c>; INTEGER <c>int</c>;
/// DOUBLE <c>double</c>; BOOLEAN <c>bool</c>; TIMESTAMP WITH TIME ZONE <c>DateTimeOffset</c>; LIST(VARCHAR)
/// <c>IEnumerable&lt;string&gt;</c>.
/// </summary>
internal sealed class TypedResult
{
    private readonly List<string> _names = [];
    private readonly List<DuckType> _types = [];
    private readonly List<object?[]> _rows = [];

    /// <summary>LIST(VARCHAR).</summary>
    public static DuckType VarcharList { get; } = DuckType.List(DuckType.Varchar);

    /// <summary>TIMESTAMP WITH TIME ZONE.</summary>
    public static DuckType TimestampTz { get; } = DuckType.Of(DuckTypeId.TimestampTz);

    /// <summary>UBIGINT.</summary>
    public static DuckType UBigInt { get; } = DuckType.Of(DuckTypeId.UBigInt);

    public TypedResult Column(string name, DuckType type)
    {
        if (_rows.Count > 0)
        {
            throw new InvalidOperationException("declare every column before the first row");
        }
        if (!IsSupported(type))
        {
            throw new ArgumentException($"{type} is not supported by {nameof(TypedResult)}", nameof(type));
        }
        _names.Add(name);
        _types.Add(type);
        return this;
    }

    /// <summary>Adds a row: one value per declared column, in order.</summary>
    public TypedResult Row(params object?[] values)
    {
        if (values.Length != _names.Count)
        {
            throw new ArgumentException($"row has {values.Length} values, the table has {_names.Count} columns", nameof(values));
        }
        _rows.Add(values);
        return this;
    }

    public ResultSet Build()
    {
        var schema = new ResultSchema([.. _names], [.. _types]);
        if (_rows.Count == 0)
        {
            return new ResultSet(schema, []);
        }
        var columns = new ColumnVector[_names.Count];
        for (var c = 0; c < columns.Length; c++)
        {
            columns[c] = BuildColumn(_names[c], _types[c], _rows.Select(r => r[c]).ToList());
        }
        return new ResultSet(schema, [new ResultBatch(schema, columns, _rows.Count)]);
    }

    private static bool IsSupported(DuckType t) => t.Id switch
    {
        DuckTypeId.Varchar or DuckTypeId.BigInt or DuckTypeId.UBigInt or DuckTypeId.Integer or DuckTypeId.Double or DuckTypeId.Boolean or DuckTypeId.TimestampTz => true,
        DuckTypeId.List => t.Element!.Id == DuckTypeId.Varchar,
        _ => false,
    };

    private static ColumnVector BuildColumn(string name, DuckType type, List<object?> values)
    {
        T? As<T>(object? v)
            where T : struct => v switch
            {
                null => null,
                T t => t,
                _ => throw new ArgumentException($"column {name} ({type}) cannot hold a {v.GetType().Name}"),
            };
        switch (type.Id)
        {
            case DuckTypeId.Varchar:
                return ColumnVectors.Varchar([.. values.Select(v => v switch
                {
                    null => null,
                    string s => s,
                    _ => throw new ArgumentException($"column {name} (VARCHAR) cannot hold a {v.GetType().Name}"),
                })]);
            case DuckTypeId.BigInt:
                return ColumnVectors.Fixed(type, values.Select(As<long>).ToList());
            case DuckTypeId.UBigInt:
                return ColumnVectors.Fixed(type, values.Select(As<ulong>).ToList());
            case DuckTypeId.Integer:
                return ColumnVectors.Fixed(type, values.Select(As<int>).ToList());
            case DuckTypeId.Double:
                return ColumnVectors.Fixed(type, values.Select(As<double>).ToList());
            case DuckTypeId.Boolean:
                // DuckDB stores BOOLEAN as one byte, 0 or 1.
                return ColumnVectors.Fixed(type, values.Select(v => As<bool>(v) is { } b ? (byte?)(b ? 1 : 0) : null).ToList());
            case DuckTypeId.TimestampTz:
                // Microseconds since the Unix epoch, UTC: DuckDB's physical TIMESTAMPTZ.
                return ColumnVectors.Fixed(type, values.Select(v => As<DateTimeOffset>(v) is { } t
                    ? (long?)((t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond)
                    : null).ToList());
            case DuckTypeId.List:
            {
                var lengths = new List<int?>(values.Count);
                var items = new List<byte[]?>();
                foreach (var v in values)
                {
                    if (v is null)
                    {
                        lengths.Add(null);
                        continue;
                    }
                    if (v is not IEnumerable<string> list)
                    {
                        throw new ArgumentException($"column {name} ({type}) cannot hold a {v.GetType().Name}");
                    }
                    var before = items.Count;
                    items.AddRange(list.Select(s => s is null ? null : Encoding.UTF8.GetBytes(s)));
                    lengths.Add(items.Count - before);
                }
                return ColumnVectors.List(type, lengths, ColumnVectors.ByteStrings(DuckType.Varchar, items));
            }
            default:
                throw new ArgumentException($"{type} is not supported", nameof(type));
        }
    }
}
