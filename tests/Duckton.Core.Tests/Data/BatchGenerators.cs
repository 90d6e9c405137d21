using System.Text;
using Duckton.Core.Data;
using FsCheck;
using FsCheck.Fluent;

namespace Duckton.Core.Tests.Data;

/// <summary>
/// FsCheck generators for random DuckDB type trees and batches of matching vectors with random validity at every
/// level, in DuckDB's physical layout (list children with leading slack, union tags within range, enum indexes
/// within the dictionary, valid UTF-8 in VARCHAR).
/// </summary>
internal static class BatchGenerators
{
    private static readonly DuckTypeId[] s_primitiveIds =
    [
        DuckTypeId.Boolean, DuckTypeId.TinyInt, DuckTypeId.SmallInt, DuckTypeId.Integer, DuckTypeId.BigInt, DuckTypeId.UTinyInt,
        DuckTypeId.USmallInt, DuckTypeId.UInteger, DuckTypeId.UBigInt, DuckTypeId.Float, DuckTypeId.Double, DuckTypeId.Timestamp,
        DuckTypeId.Date, DuckTypeId.Time, DuckTypeId.Interval, DuckTypeId.HugeInt, DuckTypeId.Varchar, DuckTypeId.Blob,
        DuckTypeId.TimestampS, DuckTypeId.TimestampMs, DuckTypeId.TimestampNs, DuckTypeId.Uuid, DuckTypeId.Bit, DuckTypeId.TimeTz,
        DuckTypeId.TimestampTz, DuckTypeId.UHugeInt, DuckTypeId.BigNum, DuckTypeId.SqlNull, DuckTypeId.TimeNs,
    ];

    private static readonly Gen<string> s_name =
        Gen.Elements("a", "b", "key", "value", "x y", "", "ü", "\"q\"", "col_1", "🦆");

    private static Gen<DuckType> Primitive() => Gen.Frequency(
        (12, Gen.Elements(s_primitiveIds).Select(DuckType.Of)),
        (2, Gen.Choose(1, 38).SelectMany(w => Gen.Choose(0, w).Select(s => DuckType.Decimal((byte)w, (byte)s)))),
        (2, Gen.Elements(0, 1, 3, 255, 256, 300).Select(n => DuckType.Enum(Enumerable.Range(0, n).Select(i => $"e{i}")))));

    /// <summary>A type tree at most <paramref name="depth"/> levels deep.</summary>
    public static Gen<DuckType> Type(int depth)
    {
        if (depth <= 1)
        {
            return Primitive();
        }
        var child = Type(depth - 1);
        var fields = Gen.Choose(1, 3).SelectMany(n => Gen.ArrayOf(s_name.SelectMany(name => child.Select(t => new DuckField(name, t))), n));
        return Gen.Frequency(
            (6, Primitive()),
            (2, child.Select(DuckType.List)),
            (2, fields.Select(f => DuckType.Struct(f))),
            (1, Gen.Zip(child, child).Select(kv => DuckType.Map(kv.Item1, kv.Item2))),
            (1, Gen.Choose(1, 3).SelectMany(size => child.Select(e => DuckType.Array(e, (uint)size)))),
            (1, fields.Select(f => DuckType.Union(f))));
    }

    /// <summary>A batch of 1–3 columns of random types and 0–40 rows.</summary>
    public static Gen<ResultBatch> Batch() =>
        from columnCount in Gen.Choose(1, 3)
        from types in Gen.ArrayOf(Type(4), columnCount)
        from rows in Gen.Frequency((1, Gen.Constant(0)), (8, Gen.Choose(1, 40)), (1, Gen.Choose(60, 140)))
        from columns in Gen.CollectToArray(types, t => Vector(t, rows))
        select new ResultBatch(new ResultSchema(types.Select((_, i) => $"c{i}").ToArray(), types), columns, rows);

    private static Gen<ulong[]?> Validity(int length) => Gen.Frequency(
        (2, Gen.Constant<ulong[]?>(null)),
        (3, Gen.Choose(0, 100).SelectMany(percentNull =>
            Gen.ArrayOf(Gen.Choose(0, 99).Select(r => r < percentNull), length).Select(nulls => ColumnVectors.Validity(nulls)))),
        (1, Gen.Constant<ulong[]?>(new ulong[ColumnVector.ValidityWords(length)])));

    private static Gen<byte> AnyByte => Gen.Choose(0, 255).Select(b => (byte)b);

    /// <summary>A vector of <paramref name="type"/> with <paramref name="length"/> rows.</summary>
    public static Gen<ColumnVector> Vector(DuckType type, int length)
    {
        var validity = Validity(length);
        switch (type.Id)
        {
            case DuckTypeId.List or DuckTypeId.Map:
            {
                var childType = type.Id == DuckTypeId.Map ? ColumnVectors.MapEntryType(type) : type.Element!;
                return from v in validity
                       from lengths in Gen.ArrayOf(Gen.Frequency((3, Gen.Choose(0, 3)), (1, Gen.Constant(0))), length)
                       from slack in Gen.Choose(0, 2)
                       from child in Vector(childType, slack + lengths.Sum() + slack)
                       select new ColumnVector(type, length, validity: v, offsets: Offsets(slack, lengths), children: [child]);
            }
            case DuckTypeId.Array:
                return from v in validity
                       from child in Vector(type.Element!, length * (int)type.ArraySize)
                       select new ColumnVector(type, length, validity: v, children: [child]);
            case DuckTypeId.Struct:
                return from v in validity
                       from children in Gen.CollectToArray(type.Fields, f => Vector(f.Type, length))
                       select new ColumnVector(type, length, validity: v, children: children);
            case DuckTypeId.Union:
                return from tags in Gen.ArrayOf(Gen.Frequency((5, Gen.Choose(0, type.Fields.Length - 1).Select(t => (byte?)t)), (1, Gen.Constant<byte?>(null))), length)
                       from members in Gen.CollectToArray(type.Fields, f => Vector(f.Type, length))
                       select ColumnVectors.Union(type, tags, members);
            case DuckTypeId.Enum:
                return from v in validity
                       from indexes in Gen.ArrayOf(Gen.Choose(0, Math.Max(type.EnumValues.Length - 1, 0)), length)
                       select EnumVector(type, indexes, type.EnumValues.Length == 0 ? new ulong[ColumnVector.ValidityWords(length)] : v);
            case DuckTypeId.Boolean:
                return from v in validity
                       from values in Gen.ArrayOf(Gen.Choose(0, 1).Select(b => (byte)b), length)
                       select new ColumnVector(type, length, values, v);
            case DuckTypeId.Varchar:
                return from v in validity
                       from values in Gen.ArrayOf(Text(), length)
                       select WithValidity(ColumnVectors.ByteStrings(type, values.Select(s => (byte[]?)Encoding.UTF8.GetBytes(s)).ToArray()), v);
            case DuckTypeId.Blob:
                return from v in validity
                       from values in Gen.ArrayOf(Gen.Choose(0, 12).SelectMany(n => Gen.ArrayOf(AnyByte, n)), length)
                       select WithValidity(ColumnVectors.ByteStrings(type, values), v);
            case DuckTypeId.Bit:
                return from v in validity
                       from values in Gen.ArrayOf(
                           from padding in Gen.Choose(0, 7)
                           from bits in Gen.Choose(1, 5).SelectMany(n => Gen.ArrayOf(AnyByte, n))
                           select (byte[])[(byte)padding, .. bits], length)
                       select WithValidity(ColumnVectors.ByteStrings(type, values), v);
            case DuckTypeId.BigNum:
                return from v in validity
                       from values in Gen.ArrayOf(Gen.Choose(4, 12).SelectMany(n => Gen.ArrayOf(AnyByte, n)), length)
                       select WithValidity(ColumnVectors.ByteStrings(type, values), v);
            default:
                return from v in validity
                       from data in Gen.ArrayOf(AnyByte, length * type.FixedWidth)
                       select new ColumnVector(type, length, data, v);
        }
    }

    private static Gen<string> Text() => Gen.Frequency(
        (1, Gen.Constant("")),
        (4, Gen.Choose(1, 8).SelectMany(n => Gen.ArrayOf(Gen.Elements('a', 'z', ' ', ',', '\'', 'é', '中', '\n'), n)).Select(c => new string(c))),
        (1, Gen.Constant("🦆 duck")));

    private static int[] Offsets(int start, int[] lengths)
    {
        var offsets = new int[lengths.Length + 1];
        offsets[0] = start;
        for (var i = 0; i < lengths.Length; i++)
        {
            offsets[i + 1] = offsets[i] + lengths[i];
        }
        return offsets;
    }

    private static ColumnVector WithValidity(ColumnVector v, ulong[]? validity) =>
        new(v.Type, v.Length, v.Fixed, validity, v.Offsets, v.Bytes, v.Children);

    private static ColumnVector EnumVector(DuckType type, int[] indexes, ulong[]? validity)
    {
        var width = type.EnumIndexWidth;
        var data = new byte[indexes.Length * width];
        for (var i = 0; i < indexes.Length; i++)
        {
            var slot = data.AsSpan(i * width, width);
            switch (width)
            {
                case 1:
                    slot[0] = (byte)indexes[i];
                    break;
                case 2:
                    BitConverter.TryWriteBytes(slot, (ushort)indexes[i]);
                    break;
                default:
                    BitConverter.TryWriteBytes(slot, (uint)indexes[i]);
                    break;
            }
        }
        return new ColumnVector(type, indexes.Length, data, validity);
    }
}
