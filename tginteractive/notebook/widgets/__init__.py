"""One module per view: graph_view, loss_plot, placement_view, dashboard."""
