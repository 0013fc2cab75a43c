using Microsoft.Extensions.Hosting;

// The imaging service host. Roles (depot, target) are added by the samples issue.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSystemd();
using var host = builder.Build();
await host.RunAsync();
