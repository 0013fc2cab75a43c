using BlockTorrent.Testing;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace BlockTorrent.Service.Tests;

/// <summary>The depot's fleet page in a real headless browser: Debian's chromium, driven through its chromedriver.</summary>
public sealed class FleetPageBrowserTests : IDisposable
{
    private const string Chromium = "/usr/bin/chromium";
    private const string ChromeDriver = "/usr/bin/chromedriver";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task TheFleetPageShowsBothTargetsOfADeploymentReachingDoneAndChartsTheSwarmsRate()
    {
        Requires.Program(Chromium, "chromium");
        Requires.Program(ChromeDriver, "chromium-driver");
        // A fleet of two, so the image is announced deployed once both are done, however their starts interleave.
        Dictionary<string, string?> guarded = new() { ["BlockTorrent:StatusToken"] = "fleet-page-secret", ["BlockTorrent:Depot:FleetSize"] = "2" };
        await using ServiceInstance depot = await FleetServices.StartDepotAsync(_dir, new TestImage { Length = 4 << 20, Seed = 41 }, guarded);

        // Behind the status token: the page is opened once with it, and the browser keeps it for the event stream.
        using ChromeDriver browser = StartBrowser();
        browser.Navigate().GoToUrl(depot.FleetUrl + "/fleet");
        Assert.DoesNotContain("Fleet", browser.Title, StringComparison.OrdinalIgnoreCase);
        browser.Navigate().GoToUrl(depot.FleetUrl + "/fleet/?token=fleet-page-secret");
        Assert.DoesNotContain("token", browser.Url, StringComparison.Ordinal);
        await Eventually.TrueAsync(() => browser.FindElement(By.Id("status")).Text == "live", Bound, "the page connects to the event stream", TestContext.Current.CancellationToken);
        Assert.Empty(browser.FindElements(By.CssSelector("#targets tr")));

        Dictionary<string, string?> reporting = new() { ["BlockTorrent:Target:ReportToken"] = "fleet-page-secret" };
        await using ServiceInstance first = await FleetServices.StartTargetAsync(_dir, depot, "target1.img", reporting);
        await using ServiceInstance second = await FleetServices.StartTargetAsync(_dir, depot, "target2.img", reporting);

        // A row can reach done from the depot's own view of the peer before the target's report names its host.
        string host = System.Net.Dns.GetHostName();
        await Eventually.TrueAsync(
            () => DoneRowsNaming(browser, host) == 2,
            Bound,
            () => "both rows reach done with their target's report; the page shows:\n" + browser.FindElement(By.TagName("body")).Text,
            TestContext.Current.CancellationToken);
        List<(string State, string Text)>? rows = null;
        await Eventually.TrueAsync(() => (rows = Rows(browser)) is not null, Bound, "the rows read while the page does not re-render them", TestContext.Current.CancellationToken);
        foreach ((string state, string text) in rows!)
        {
            Assert.Equal("done", state);
            Assert.Contains("100.0 %", text, StringComparison.Ordinal);
            Assert.Contains(host, text, StringComparison.Ordinal);
        }

        // The chart gains a point a second from the stream.
        int before = ChartPoints(browser);
        await Eventually.TrueAsync(() => ChartPoints(browser) > before, Bound, "the rate chart gains a point", TestContext.Current.CancellationToken);
        Assert.StartsWith("now ", browser.FindElement(By.Id("rate-now")).Text, StringComparison.Ordinal);
        await Eventually.TrueAsync(() => browser.FindElements(By.CssSelector("#events li[data-type='image-deployed']")).Count == 1, Bound, "the page lists the image as deployed", TestContext.Current.CancellationToken);
    }

    // The page re-renders a row on every event, so a row found a moment ago may be gone when read: count again then.
    private static int DoneRowsNaming(ChromeDriver browser, string host)
    {
        try
        {
            return browser.FindElements(By.CssSelector("#targets tr[data-state='done']")).Count(row => row.Text.Contains(host, StringComparison.Ordinal));
        }
        catch (StaleElementReferenceException)
        {
            return -1;
        }
    }

    // Every row's state and text in one reading; null when the page re-rendered a row while it was read.
    private static List<(string State, string Text)>? Rows(ChromeDriver browser)
    {
        try
        {
            return browser.FindElements(By.CssSelector("#targets tr")).Select(row => (row.FindElement(By.CssSelector("td.state")).Text, row.Text)).ToList();
        }
        catch (StaleElementReferenceException)
        {
            return null;
        }
    }

    private static int ChartPoints(ChromeDriver browser) =>
        (browser.FindElement(By.Id("rate")).GetAttribute("points") ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;

    private static ChromeDriver StartBrowser()
    {
        ChromeDriverService service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriver)!, Path.GetFileName(ChromeDriver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = Chromium };

        // Headless as root in a container: no sandbox, no /dev/shm of the size chromium wants, no GPU.
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run");
        return new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }
}
