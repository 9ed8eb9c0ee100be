<?xml version="1.0" encoding="UTF-8"?>
<!--
  feedpub's feed stylesheet: a browser that opens feed.xml or rss.xml shows this page
  instead of raw XML. Override it with templates/feed.xsl in your site, or with
  [feeds] stylesheet = "path/to/your.xsl"; turn it off with stylesheet = false.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    exclude-result-prefixes="atom dc">
  <xsl:output method="html" encoding="UTF-8" indent="yes"/>

  <xsl:variable name="title" select="/atom:feed/atom:title | /rss/channel/title"/>
  <xsl:variable name="subtitle" select="/atom:feed/atom:subtitle | /rss/channel/description"/>
  <xsl:variable name="home" select="/atom:feed/atom:link[@rel='alternate']/@href | /rss/channel/link"/>
  <xsl:variable name="self" select="/atom:feed/atom:link[@rel='self']/@href | /rss/channel/atom:link[@rel='self']/@href"/>

  <xsl:template match="/">
    <html lang="{/atom:feed/@xml:lang | /rss/channel/language}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (web feed)</title>
        <style>
          body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 44rem;
                 margin: 0 auto; padding: 1.5rem; color: #1f2328; background: #fff; }
          .about { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: .75rem 1rem; }
          .about code { background: #fff; padding: .1rem .3rem; border-radius: 4px; word-break: break-all; }
          h1 { margin-bottom: .25rem; }
          ol { list-style: none; padding: 0; }
          li { padding: .6rem 0; border-bottom: 1px solid #d0d7de; }
          time { color: #59636e; font-size: .9rem; display: block; }
          a { color: #0969da; }
        </style>
      </head>
      <body>
        <p class="about">
          <strong>This is a web feed</strong>, also known as an RSS or Atom feed.
          <strong>Subscribe</strong> by copying its address into your feed reader:
          <code><xsl:value-of select="$self"/></code>.
          Visit <a href="https://aboutfeeds.com/">About Feeds</a> to get started with feed readers.
        </p>
        <h1><xsl:value-of select="$title"/></h1>
        <p><xsl:value-of select="$subtitle"/></p>
        <p><a href="{$home}">Visit the website →</a></p>
        <h2>Recent posts</h2>
        <ol>
          <xsl:apply-templates select="/atom:feed/atom:entry | /rss/channel/item"/>
        </ol>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="atom:entry">
    <li>
      <a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a>
      <time datetime="{atom:published}"><xsl:value-of select="substring(atom:published, 1, 10)"/></time>
    </li>
  </xsl:template>

  <xsl:template match="item">
    <li>
      <a href="{link}"><xsl:value-of select="title"/></a>
      <time><xsl:value-of select="substring(pubDate, 6, 11)"/></time>
    </li>
  </xsl:template>
</xsl:stylesheet>
