using System.Text.Json.Nodes;
using Duckton.Core.Data;
using Duckton.Core.Hashing;
using FsCheck;
using FsCheck.Fluent;

namespace Duckton.Core.Tests.Hashing;

/// <summary>Property tests over random typed batches (FsCheck drives the sizes and seeds; RandomData the values).</summary>
public class CanonicalHashPropertyTests
{
    private static readonly Config s_config = Config.QuickThrowOnFailure.WithMaxTest(150).WithQuietOnSuccess(true);

    /// <summary>A random result: 1-4 columns drawn from <see cref="RandomData.TypePool"/>, 1-40 rows.</summary>
    private sealed record RandomResult(ResultSchema Schema, List<JsonNode?[]> Rows, int Seed)
    {
        public override string ToString() => $"seed={Seed} schema=({string.Join(", ", Schema.Types)}) rows={Rows.Count}";
    }

    private static Arbitrary<RandomResult> Results =>
        (from columns in Gen.Choose(1, 4)
         from rows in Gen.Choose(1, 40)
         from seed in Gen.Choose(0, int.MaxValue)
         select Make(columns, rows, seed)).ToArbitrary();

    private static RandomResult Make(int columns, int rows, int seed)
    {
        var rng = new Random(seed);
        var types = Enumerable.Range(0, columns).Select(_ => RandomData.TypePool[rng.Next(RandomData.TypePool.Length)]).ToArray();
        var schema = new ResultSchema([.. types.Select((_, i) => $"col{i}")], types);
        return new RandomResult(schema, [.. Enumerable.Range(0, rows).Select(_ => RandomData.Row(rng, schema))], seed);
    }

    private static ResultDigest Hash(ResultSchema schema, IReadOnlyList<JsonNode?[]> rows) =>
        CanonicalResultHash.Compute(new ResultSet(schema, [JsonColumns.Batch(schema, rows)]));

    [Fact]
    public void Any_single_value_change_changes_the_hash()
    {
        Check.One(s_config, Prop.ForAll(Results, result =>
        {
            var before = Hash(result.Schema, result.Rows);
            var rng = new Random(result.Seed ^ 0x5bd1e995);
            var r = rng.Next(result.Rows.Count);
            var c = rng.Next(result.Schema.Count);
            var old = result.Rows[r][c];
            JsonNode? replacement;
            var tries = 0;
            do
            {
                // NULL <-> value changes are part of the property.
                replacement = RandomData.Value(rng, result.Schema.Types[c]);
            }
            while (JsonNode.DeepEquals(replacement, old) && ++tries < 100);
            if (JsonNode.DeepEquals(replacement, old))
            {
                return true; // a type with too few values to differ (never observed; keeps the property total)
            }
            var changed = result.Rows.Select(row => row.Select(v => v?.DeepClone()).ToArray()).ToList();
            changed[r][c] = replacement;
            return Hash(result.Schema, changed) != before;
        }));
    }

    [Fact]
    public void Permutations_and_batch_splits_give_the_same_hash()
    {
        Check.One(s_config, Prop.ForAll(Results, result =>
        {
            var expected = Hash(result.Schema, result.Rows);
            var rng = new Random(result.Seed);
            var shuffled = result.Rows.OrderBy(_ => rng.Next()).ToList();
            var hasher = new CanonicalResultHasher(result.Schema);
            for (var i = 0; i < shuffled.Count;)
            {
                var n = Math.Min(rng.Next(1, 8), shuffled.Count - i);
                hasher.Add(JsonColumns.Batch(result.Schema, shuffled.GetRange(i, n)));
                i += n;
            }
            return hasher.Finish() == expected;
        }));
    }

    [Fact]
    public void Dropping_or_duplicating_a_row_changes_the_hash()
    {
        Check.One(s_config, Prop.ForAll(Results, result =>
        {
            var before = Hash(result.Schema, result.Rows);
            var dropped = result.Rows.Skip(1).ToList();
            var duplicated = result.Rows.Append(result.Rows[0]).ToList();
            return Hash(result.Schema, duplicated) != before && (dropped.Count == 0 || Hash(result.Schema, dropped) != before);
        }));
    }
}
