using System.Globalization;
using System.Text;

namespace Duckton.Simulation;

/// <summary>The simulator's figures as a Markdown table and an SVG plot (both written by <c>duckton bench sim</c>).</summary>
public static class SimulationReport
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    private static string F(double? v, string format = "0.0") => v is { } x ? x.ToString(format, s_inv) : "never";

    public static string Markdown(IReadOnlyList<SimulationResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var sb = new StringBuilder();
        sb.AppendLine("| figure | " + string.Join(" | ", results.Select(r => "n = " + r.Options.Nodes.ToString("N0", s_inv))) + " |");
        sb.AppendLine("|---|" + string.Concat(results.Select(_ => "---:|")));
        void Row(string name, Func<SimulationResult, string> value) => sb.AppendLine($"| {name} | " + string.Join(" | ", results.Select(value)) + " |");
        Row("heartbeats until hosts know 99% of the grid on average (cold start)", r => r.Mean99Round?.ToString(s_inv) ?? "never");
        Row("heartbeats until every host knows every other", r => r.AllKnowAllRound?.ToString(s_inv) ?? "never");
        Row("steady state: share of the grid a host knows alive (mean)", r => F(r.SteadyMeanKnown * 100, "0.0") + "%");
        Row("steady state: membership table entries per host", r => F(r.SteadyTable, "0"));
        Row("new host known by 50% of hosts after (s)", r => F(r.NewcomerKnownBy50Seconds));
        Row("new host known by 99% of hosts after (s)", r => F(r.NewcomerKnownBy99Seconds));
        Row("new host selectable by a requester after (s)", r => F(r.NewcomerSelectableSeconds));
        Row("gossip bytes per host per heartbeat (sent + received, mean)", r => Bytes(r.SteadyBytesPerNode));
        Row("gossip bytes per heartbeat, busiest host", r => Bytes(r.SteadyMaxBytesPerNode));
        Row("gossip bytes per heartbeat, per seed", r => Bytes(r.SteadySeedBytes));
        Row("advert signature checks per host per heartbeat", r => F(r.SteadyVerifiesPerNode, "0"));
        Row("adverts' share of gossip bytes", r => F(r.AdvertShare * 100, "0.0") + "%");
        Row("receipts pushed per requester exchange", r => F(r.ReceiptsPerExchange, "0.0"));
        Row("hosts reached per receipt", r => F(r.HostsReachedPerReceipt, "0.0"));
        Row("simulation wall time", r => F(r.Wall.TotalSeconds, "0") + " s");
        if (results.FirstOrDefault(r => r.Stopped is not null) is { } s)
        {
            sb.AppendLine().AppendLine($"n = {s.Options.Nodes}: {s.Stopped}");
        }
        return sb.ToString();
    }

    private static string Bytes(double b) => b >= 1 << 20 ? (b / (1 << 20)).ToString("0.00", s_inv) + " MiB" : (b / 1024).ToString("0.0", s_inv) + " KiB";

    private static readonly string[] s_colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];

    /// <summary>Two panels: the share of the grid hosts know per heartbeat (one line per n); bytes per host per heartbeat against n.</summary>
    public static string Svg(IReadOnlyList<SimulationResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        const int W = 920, H = 360, Pad = 50, PanelW = 380, PanelH = 250, Top = 40;
        var sb = new StringBuilder();
        sb.Append(s_inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">");
        sb.Append(s_inv, $"<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>");

        // Panel 1: mean share known vs heartbeat.
        var x0 = Pad;
        var rounds = Math.Max(1, results.Max(r => r.Options.Rounds));
        Axes(sb, x0, Top, PanelW, PanelH, "heartbeats", "share of the grid known (mean)");
        for (var t = 0; t <= 4; t++)
        {
            var y = Top + PanelH - (PanelH * t / 4.0);
            sb.Append(s_inv, $"<text x=\"{x0 - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{t * 25}%</text>");
        }
        for (var t = 0; t <= rounds; t += Math.Max(1, rounds / 8))
        {
            var x = x0 + (PanelW * t / (double)rounds);
            sb.Append(s_inv, $"<text x=\"{x:0.#}\" y=\"{Top + PanelH + 16}\" text-anchor=\"middle\">{t}</text>");
        }
        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            var pts = string.Join(" ", r.Samples.Select(s => string.Create(s_inv, $"{x0 + (PanelW * s.Round / (double)rounds):0.#},{Top + PanelH - (PanelH * s.MeanKnown):0.#}")));
            sb.Append(s_inv, $"<polyline fill=\"none\" stroke=\"{s_colours[i % s_colours.Length]}\" stroke-width=\"2\" points=\"{pts}\"/>");
            sb.Append(s_inv, $"<text x=\"{x0 + PanelW - 4}\" y=\"{Top + 16 + (14 * i)}\" text-anchor=\"end\" fill=\"{s_colours[i % s_colours.Length]}\">n = {r.Options.Nodes:N0}</text>");
        }

        // Panel 2: bytes per host per heartbeat vs n (log x).
        var x1 = Pad + PanelW + 90;
        var maxBytes = Math.Max(1, results.Max(r => Math.Max(r.SteadyBytesPerNode, r.SteadySeedBytes)));
        Axes(sb, x1, Top, PanelW, PanelH, "hosts n (log scale)", "KiB per host per heartbeat");
        var minN = Math.Log10(Math.Max(10, results.Min(r => r.Options.Nodes) / 2.0));
        var maxN = Math.Log10(results.Max(r => r.Options.Nodes) * 2.0);
        double Px(int n) => x1 + (PanelW * (Math.Log10(n) - minN) / (maxN - minN));
        double Py(double b) => Top + PanelH - (PanelH * b / (maxBytes * 1.1));
        for (var t = 0; t <= 4; t++)
        {
            var b = maxBytes * 1.1 * t / 4;
            sb.Append(s_inv, $"<text x=\"{x1 - 6}\" y=\"{Py(b) + 4:0.#}\" text-anchor=\"end\">{b / 1024:0}</text>");
        }
        void Series(Func<SimulationResult, double> value, string colour, string label, int row)
        {
            var pts = results.Select(r => (X: Px(r.Options.Nodes), Y: Py(value(r)))).ToList();
            sb.Append(s_inv, $"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{string.Join(" ", pts.Select(p => string.Create(s_inv, $"{p.X:0.#},{p.Y:0.#}")))}\"/>");
            foreach (var p in pts)
            {
                sb.Append(s_inv, $"<circle cx=\"{p.X:0.#}\" cy=\"{p.Y:0.#}\" r=\"3.5\" fill=\"{colour}\"/>");
            }
            sb.Append(s_inv, $"<text x=\"{x1 + 8}\" y=\"{Top + 16 + (14 * row)}\" fill=\"{colour}\">{label}</text>");
        }
        Series(r => r.SteadyBytesPerNode, s_colours[0], "mean host", 0);
        Series(r => r.SteadySeedBytes, s_colours[3], "each seed", 1);
        foreach (var r in results)
        {
            sb.Append(s_inv, $"<text x=\"{Px(r.Options.Nodes):0.#}\" y=\"{Top + PanelH + 16}\" text-anchor=\"middle\">{r.Options.Nodes:N0}</text>");
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    private static void Axes(StringBuilder sb, int x, int y, int w, int h, string xLabel, string yLabel)
    {
        sb.Append(s_inv, $"<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" fill=\"#fafafa\" stroke=\"#999\"/>");
        sb.Append(s_inv, $"<text x=\"{x + (w / 2)}\" y=\"{y + h + 34}\" text-anchor=\"middle\">{xLabel}</text>");
        sb.Append(s_inv, $"<text x=\"{x}\" y=\"{y - 10}\" font-weight=\"bold\">{yLabel}</text>");
    }
}
