//! Text in bitmaps with each glyph where the font puts it.
//!
//! plotters' `ab_glyph` text drawing puts each glyph's outline at the pen position itself,
//! without the glyph's left side bearing (the blank between the pen and its ink), so glyphs
//! with a wide bearing, such as `1`, sit too far left and leave a gap after them
//! (`Jan 2 022`, `1 ,912`). The SVG backend writes text as text and is not affected.
//! [`Glyphs`] wraps a bitmap backend and draws its text itself.

use ab_glyph::{Font as _, FontRef, ScaleFont as _};
use plotters::style::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

/// A bitmap backend whose text is drawn with each glyph at its own offset from the pen: the
/// text is laid out as plotters lays it out (the same advances, kerning, anchors and
/// rotations, so the text takes the same room as in the SVG) with each glyph's ink where
/// the font puts it, at sub-pixel pen positions; everything else goes to the inner backend.
pub struct Glyphs<B> {
    inner: B,
    font: Option<FontRef<'static>>,
}

impl<B: DrawingBackend> Glyphs<B> {
    /// `inner` with its text drawn in `font` (the bytes of a TrueType font: the one
    /// registered with plotters for the same text).
    pub fn new(inner: B, font: &'static [u8]) -> Glyphs<B> {
        Glyphs {
            inner,
            font: FontRef::try_from_slice(font).ok(),
        }
    }
}

impl<B: DrawingBackend> DrawingBackend for Glyphs<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> std::result::Result<(u32, u32), DrawingErrorKind<B::ErrorType>> {
        self.inner.estimate_text_size(text, style)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> std::result::Result<(), DrawingErrorKind<B::ErrorType>> {
        let color = style.color();
        let Some(font) = &self.font else {
            return self.inner.draw_text(text, style, pos);
        };
        if color.alpha == 0.0 {
            return Ok(());
        }
        // The box and the anchor exactly as plotters computes them.
        let ((min_x, min_y), (max_x, max_y)) = style
            .layout_box(text)
            .map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let trans = style.transform();
        let (w, h) = self.get_size();
        let size = style.size() as f32;
        let scaled = font.as_scaled(size);
        let mut pen = 0f32;
        let mut prev = None;
        let mut pixels = Vec::new();
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                pen += scaled.kern(p, id);
            }
            prev = Some(id);
            let glyph = id.with_scale_and_position(size, ab_glyph::point(pen, 0.0));
            if let Some(outline) = scaled.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                // plotters puts the baseline half the font size below the top of the box.
                let (x0, y0) = (bounds.min.x as i32, (size / 2.0 + bounds.min.y) as i32);
                outline.draw(|x, y, coverage| {
                    pixels.push((x0 + x as i32, y0 + y as i32, coverage.min(1.0)));
                });
            }
            pen += scaled.h_advance(id);
        }
        for (x, y, coverage) in pixels {
            let (x, y) = trans.transform(x + dx - min_x, y + dy - min_y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                let ink = BackendColor {
                    alpha: color.alpha * f64::from(coverage),
                    rgb: color.rgb,
                };
                self.inner.draw_pixel((x, y), ink)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

    /// The first column of each run of inked columns of `text` drawn at size `size` from
    /// x = 10 into a white bitmap.
    fn ink_starts(text: &str, size: f64) -> Vec<i32> {
        let (w, h) = (400u32, 80u32);
        let mut buf = vec![255u8; (w * h * 3) as usize];
        {
            let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
            let backend = Glyphs::new(BitMapBackend::with_buffer(&mut buf, (w, h)), FONT);
            let area = backend.into_drawing_area();
            area.draw_text(
                text,
                &("sans-serif", size).into_font().color(&BLACK),
                (10, 10),
            )
            .unwrap();
            area.present().unwrap();
        }
        let inked = |x: u32| (0..h).any(|y| buf[((y * w + x) * 3) as usize] < 200);
        let mut starts = Vec::new();
        let mut before = false;
        for x in 0..w {
            let now = inked(x);
            if now && !before {
                starts.push(x as i32);
            }
            before = now;
        }
        starts
    }

    /// Where the font puts the ink of each glyph of `text`: the pen (advances and kerning)
    /// plus the glyph's left side bearing, from x = 10.
    fn font_starts(text: &str, size: f32) -> Vec<f32> {
        let font = FontRef::try_from_slice(FONT).unwrap();
        let scaled = font.as_scaled(size);
        let mut pen = 0f32;
        let mut prev = None;
        let mut out = Vec::new();
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                pen += scaled.kern(p, id);
            }
            prev = Some(id);
            let g = id.with_scale_and_position(size, ab_glyph::point(pen, 0.0));
            if let Some(o) = scaled.outline_glyph(g) {
                out.push(10.0 + o.px_bounds().min.x);
            }
            pen += scaled.h_advance(id);
        }
        out
    }

    /// "1,912" in the bitmap: each glyph's ink starts where the font puts it (to a pixel),
    /// so the `1` is not pulled left of its bearing, which left a gap after it.
    #[test]
    fn each_glyph_is_inked_where_the_font_puts_it() {
        for text in ["1,912", "Jan 2022", "11"] {
            let drawn = ink_starts(text, 40.0);
            let want = font_starts(text, 40.0);
            assert_eq!(
                drawn.len(),
                want.len(),
                "{text}: {drawn:?} against {want:?}"
            );
            for (d, w) in drawn.iter().zip(&want) {
                assert!(
                    (*d as f32 - w).abs() <= 1.0,
                    "{text}: ink at {drawn:?}, the font puts it at {want:?}"
                );
            }
        }
    }
}
