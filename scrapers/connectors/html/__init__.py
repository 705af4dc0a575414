from scrapers.connectors.html.connector import HtmlConnector

__all__ = ["HtmlConnector"]
