using System.Text;
using Duckton.Core.Data;
using Duckton.Node;
using Duckton.Transport;

namespace Duckton.Sql.Tests;

[Collection(SqlCollection.Name)]
public class NodeMetadataTests(SqlFixture db)
{
    [Fact]
    public void P2p_node_metadata_is_signed_by_the_node_identity()
    {
        var r = db.Query("SELECT \"group\", key, value FROM p2p_node_metadata()");
        Assert.Equal(["group", "key", "value"], r.Schema.Names);
        var rows = new List<(string Group, string Key, string Value)>();
        foreach (var b in r.Batches)
        {
            for (var i = 0; i < b.RowCount; i++)
            {
                rows.Add((Text(b, 0, i), Text(b, 1, i), Text(b, 2, i)));
            }
        }
        var identity = rows.Where(x => x.Group == "identity").ToDictionary(x => x.Key, x => x.Value);
        var profile = rows.Where(x => x.Group != "identity").ToList();
        Assert.Contains(profile, x => x.Group == "cpu" && x.Key == "logical_cores");
        Assert.Equal(db.Host.Node.Identity.NodeId, identity["node_id"]);
        var publicKey = Convert.FromHexString(identity["public_key"]);
        var signed = SystemProfile.SignedBytes(identity["node_id"], long.Parse(identity["collected_at"], System.Globalization.CultureInfo.InvariantCulture), profile);
        Assert.True(NodeIdentity.Verify(identity["node_id"], publicKey, signed, Convert.FromHexString(identity["signature"])));
        Assert.False(NodeIdentity.Verify(identity["node_id"], publicKey, [.. signed, 0], Convert.FromHexString(identity["signature"])));
    }

    private static string Text(ResultBatch b, int c, int r) => Encoding.UTF8.GetString(b.Columns[c].GetBytes(r));
}
