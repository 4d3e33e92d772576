"""convcalc in the browser: a static site where Pyodide runs this same package (docs/web.md).

`python -m convcalc.web build SITE` writes the site (convcalc.web.build); the page calls
convcalc.web.page, which returns JSON for the page's script (static/app.js) to show.
"""
