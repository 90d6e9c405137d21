using Duckton.Core.Data;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;

namespace Duckton.Core.Tests.Data;

/// <summary>Round trips of random nested types and batches (FsCheck, fixed seed so failures reproduce).</summary>
public class BatchCodecPropertyTests
{
    private static Config Quick(int tests, ulong seed) => Config.QuickThrowOnFailure
        .WithMaxTest(tests)
        .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed, 0x9E37_79B9_7F4A_7C15UL), FSharpOption<int>.None)));

    [Fact]
    public void Random_schemas_round_trip()
    {
        var schemas = Gen.ArrayOf(BatchGenerators.Type(6), 4).Select(types => new ResultSchema(types.Select((_, i) => $"c{i}").ToArray(), types));
        Check.One(Quick(300, 11), Prop.ForAll(schemas.ToArbitrary(), schema =>
        {
            var decoded = BatchCodec.DecodeSchema(BatchCodec.EncodeSchema(schema));
            Assert.Equal(schema, decoded);
            Assert.Equal(schema.Types.Select(t => t.ToString()), decoded.Types.Select(t => t.ToString()));
        }));
    }

    [Fact]
    public void Random_batches_round_trip_exactly()
    {
        Check.One(Quick(400, 23), Prop.ForAll(BatchGenerators.Batch().ToArbitrary(), batch =>
        {
            var difference = BatchComparer.Difference(batch, BatchCodecTests.RoundTrip(batch));
            Assert.True(difference is null, $"{string.Join(", ", batch.Schema.Types)}: {difference}");
        }));
    }

    [Fact]
    public void Random_batches_format_without_throwing()
    {
        // The formatter must render whatever the decoder accepts.
        Check.One(Quick(150, 37), Prop.ForAll(BatchGenerators.Batch().ToArbitrary(), batch =>
        {
            foreach (var column in batch.Columns)
            {
                for (var row = 0; row < batch.RowCount; row++)
                {
                    _ = ValueFormatter.Format(column, row);
                }
            }
        }));
    }

    [Fact]
    public void The_comparer_sees_a_changed_value()
    {
        // Flip one valid, non-nested value and the batches must differ.
        var ints = BatchGenerators.Vector(DuckType.Integer, 20).Where(v => Enumerable.Range(0, 20).Any(v.IsValid));
        Check.One(Quick(100, 41), Prop.ForAll(ints.ToArbitrary(), v =>
        {
            var row = Enumerable.Range(0, 20).First(v.IsValid);
            var changed = (byte[])v.Fixed.Clone();
            changed[row * 4] ^= 1;
            var w = new ColumnVector(v.Type, v.Length, changed, v.Validity);
            Assert.False(BatchComparer.ValuesEqual(v, row, w, row));
        }));
    }
}
