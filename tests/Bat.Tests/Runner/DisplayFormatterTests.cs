using Bat.Notebooks;
using Microsoft.Data.Analysis;

namespace Bat.Tests.Runner;

public class DisplayFormatterTests
{
    static string Mime(System.Text.Json.Nodes.JsonObject data, string mime) => data[mime]!.GetValue<string>();

    [Fact]
    public void Scalars_and_strings_are_text_plain_in_invariant_culture()
    {
        var f = new DisplayFormatter();
        Assert.Equal("hello", Mime(f.Format("hello"), "text/plain"));
        Assert.Equal("0.125", Mime(f.Format(0.125), "text/plain"));
        Assert.Equal("42", Mime(f.Format(42L), "text/plain"));
        Assert.Single(f.Format(3.5f));
        Assert.Equal("[1, 2, 3]", Mime(f.Format(new[] { 1, 2, 3 }), "text/plain"));
        Assert.Equal("<b>x</b>", Mime(f.Format(new HtmlString("<b>x</b>")), "text/html"));
    }

    [Fact]
    public void Dataframe_is_an_html_table_with_capped_rows_and_a_text_table()
    {
        var n = DisplayFormatter.MaxRows + 7;
        var frame = new DataFrame(
            new Int32DataFrameColumn("step", Enumerable.Range(0, n)),
            new StringDataFrameColumn("name", Enumerable.Range(0, n).Select(i => $"<r{i}>")));
        var data = new DisplayFormatter().Format(frame);
        var html = Mime(data, "text/html");
        Assert.Contains("<th>step</th><th>name</th>", html);
        Assert.Contains("<td>49</td><td>&lt;r49&gt;</td>", html); // escaped
        Assert.DoesNotContain("<td>50</td>", html);
        Assert.Contains("7 more rows (57 in all)", html);
        var text = Mime(data, "text/plain").Split('\n');
        Assert.Equal("step  name", text[0]);
        Assert.Equal("0     <r0>", text[2]);
        Assert.Contains("... 7 more rows (57 in all)", text);
    }

    record Point(string Label, double X, int? Missing);

    [Fact]
    public void Records_objects_and_dictionaries_become_tables_of_their_members()
    {
        var f = new DisplayFormatter();
        var html = Mime(f.Format(new List<Point> { new("a", 1.5, null), new("b", -2, 3) }), "text/html");
        Assert.Contains("<th>Label</th><th>X</th><th>Missing</th>", html);
        Assert.Contains("<td>a</td><td>1.5</td><td></td>", html);
        Assert.Contains("<td>b</td><td>-2</td><td>3</td>", html);
        Assert.DoesNotContain("more rows", html);

        var dict = Mime(f.Format(new Dictionary<string, int> { ["k"] = 9 }), "text/html");
        Assert.Contains("<th>Key</th><th>Value</th>", dict);
        Assert.Contains("<td>k</td><td>9</td>", dict);

        var tuples = Mime(f.Format(new[] { (A: 1, B: "x") }), "text/plain");
        Assert.StartsWith("Item1  Item2", tuples);
    }

    [Fact]
    public void Charts_load_plotly_js_once_per_formatter_that_is_once_per_document()
    {
        var chart = Plotly.NET.CSharp.Chart.Point<double, double, string>(x: new[] { 1.0 }, y: new[] { 2.0 }, Name: "p</script>");
        var f = new DisplayFormatter();
        var first = Mime(f.Format(chart), "text/html");
        var second = Mime(f.Format(chart), "text/html");
        Assert.Contains("cdn.plot.ly/plotly-2.28.0.min", first);
        Assert.DoesNotContain("plotly-2.28.0", second);
        Assert.Contains("Plotly.newPlot", second);
        Assert.DoesNotContain("p</script>", second); // a trace name cannot end the script element
        Assert.Contains("p<\\/script>", second);
        Assert.Contains("cdn.plot.ly", Mime(new DisplayFormatter().Format(chart), "text/html"));
    }
}
